import DivSeg
import DivSegRegistry
import Foundation
import Testing

@Suite("Label ledger")
struct LabelLedgerTests {
    @Test("an empty ledger assigns like before: preferred ids first, then the lowest free id in name order")
    func freshAssignment() throws {
        var ledger = LabelLedger()
        let labels = try ledger.assign([("person", 15), ("giraffe", nil), ("elephant", nil), ("cat", 8)], date: "t0")
        #expect(labels == ["person": 15, "cat": 8, "elephant": 1, "giraffe": 2])
        #expect(ledger.entries.map(\.label) == [1, 2, 8, 15])
    }

    @Test("a removed class keeps its id reserved, and gets it back when added again")
    func retiredIdsAreReserved() throws {
        var ledger = LabelLedger()
        try ledger.assign([("elephant", nil), ("giraffe", nil)], date: "t0")   // elephant 1, giraffe 2
        ledger.retire(except: ["giraffe"], date: "t1")
        #expect(ledger.entries.first { $0.name == "elephant" }?.retired == "t1")
        // A newcomer does not get elephant's 1, even though it is the lowest id not in use.
        let withZebra = try ledger.assign([("giraffe", nil), ("zebra", nil)], date: "t2")
        #expect(withZebra == ["giraffe": 2, "zebra": 3])
        // A newcomer whose preferred id belonged to a removed class does not get it either.
        let withCow = try ledger.assign([("giraffe", nil), ("zebra", nil), ("cow", 1)], date: "t3")
        #expect(withCow["cow"] == 4)
        // Adding elephant again restores its id and clears the retirement.
        let again = try ledger.assign([("giraffe", nil), ("elephant", nil)], date: "t4")
        #expect(again["elephant"] == 1)
        #expect(ledger.entries.first { $0.name == "elephant" }?.retired == nil)
    }

    @Test("ids of removed classes are recycled only when all 254 are used, least recently retired first")
    func recycling() throws {
        var ledger = LabelLedger()
        let many = (0..<254).map { (name: String(format: "class%03d", $0), preferred: Int?.none) }
        try ledger.assign(many, date: "t0")
        ledger.retire(except: Set(many.dropFirst(2).map(\.name)), date: "t1")   // class000 (1), class001 (2)
        var labels = try ledger.assign(many.dropFirst(2).map { ($0.name, nil) } + [("newcomer", nil)], date: "t2")
        #expect(labels["newcomer"] == 1 || labels["newcomer"] == 2)
        labels = try ledger.assign(many.dropFirst(2).map { ($0.name, nil) } + [("newcomer", nil), ("another", nil)], date: "t3")
        #expect(Set([labels["newcomer"]!, labels["another"]!]) == [1, 2])
        #expect(throws: RegistryError.noFreeLabel(className: "third")) {
            try ledger.assign(many.dropFirst(2).map { ($0.name, nil) } + [("newcomer", nil), ("another", nil), ("third", nil)])
        }
    }

    @Test("labels.json round-trips; a damaged one is a clear error; Registry.open honours it")
    func fileAndRegistry() throws {
        let dir = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try LabelLedger.read(registry: dir.path) == LabelLedger())
        var ledger = LabelLedger()
        try ledger.assign([("giraffe", nil), ("elephant", nil)])   // elephant 1, giraffe 2
        ledger.retire(except: ["giraffe"])
        try ledger.write(registry: dir.path)
        #expect(try LabelLedger.read(registry: dir.path) == ledger)

        _ = try makeBundle(in: dir, name: "giraffe")
        _ = try makeBundle(in: dir, name: "zebra")
        let registry = try Registry.open(dir.path, backbone: testBackbone)
        #expect(registry.labels == ["giraffe": 2, "zebra": 3], "elephant's 1 stays reserved")
        #expect(registry.warnings.isEmpty)

        try Data("{\"version\": 1, \"entries\": [{\"name\": \"a\", \"label\": 300, \"assigned\": \"x\"}]}".utf8)
            .write(to: dir.appendingPathComponent("labels.json"))
        #expect {
            try LabelLedger.read(registry: dir.path)
        } throws: { error in
            guard case RegistryError.damagedLedger(let path, let reason) = error else { return false }
            return path.hasSuffix("labels.json") && reason.contains("300")
        }
        // Readers still work (with a warning); the ids are then assigned afresh.
        let lenient = try Registry.open(dir.path, backbone: testBackbone)
        #expect(lenient.labels == ["giraffe": 1, "zebra": 2])
        #expect(lenient.warnings.count == 1)
        #expect(lenient.warnings[0].contains("labels.json"))
    }
}
