import DivSegCore
import Foundation
import Testing

@Suite("Shard: parsing, environment, assignment")
struct ShardTests {
    @Test("i/n parses 1-based; malformed text and out-of-range numbers are refused with the reason")
    func parsing() throws {
        let shard = try Shard(parsing: "2/4")
        #expect(shard.index == 2 && shard.count == 4 && shard.description == "2/4")
        #expect(try Shard(parsing: "1/1") == .whole)
        #expect(try Shard(parsing: "4/4").index == 4)
        for (text, fragment) in [("0/4", "for the first shard write 1/4"), ("5/4", "5 is outside 1...4"),
                                 ("-1/4", "outside 1...4"), ("1/0", "shard count must be in 1...1000000"),
                                 ("2", "expected INDEX/COUNT"), ("a/b", "expected INDEX/COUNT"), ("1/2/3", "expected INDEX/COUNT"),
                                 ("", "expected INDEX/COUNT"), ("1/", "expected INDEX/COUNT"), ("1/2000000", "1...1000000")] {
            do {
                _ = try Shard(parsing: text)
                Issue.record("'\(text)' must be refused")
            } catch {
                #expect(error.description.contains("'\(text)'") && error.description.contains(fragment), "\(text): \(error)")
            }
        }
    }

    @Test("shards cover every position exactly once, round-robin, sizes within one", arguments: [1, 2, 3, 4, 7, 16])
    func assignment(count: Int) throws {
        for total in [0, 1, 3, 4, 5, 17, 100] {
            let items = Array(0..<total)
            var seen = [Int](repeating: 0, count: total)
            var sizes: [Int] = []
            for index in 1...count {
                let shard = try Shard(index: index, count: count)
                let mine = shard.select(items)
                sizes.append(mine.count)
                #expect(mine == mine.sorted(), "a shard keeps the list's order")
                for position in mine {
                    seen[position] += 1
                    #expect(shard.contains(position: position))
                    #expect(position % count == index - 1)
                }
            }
            #expect(seen.allSatisfy { $0 == 1 }, "\(total) items, \(count) shards: \(seen)")
            #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1, "sizes \(sizes)")
        }
    }

    @Test("Slurm: the array index is offset by SLURM_ARRAY_TASK_MIN and divided by the step")
    func slurm() throws {
        let base = ["SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"]
        #expect(try Shard.fromEnvironment(base.merging(["SLURM_ARRAY_TASK_ID": "0"]) { $1 }) == Shard(index: 1, count: 4))
        #expect(try Shard.fromEnvironment(base.merging(["SLURM_ARRAY_TASK_ID": "3"]) { $1 }) == Shard(index: 4, count: 4))
        // --array=1-4: ids start at 1.
        let one = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]
        #expect(try Shard.fromEnvironment(one) == Shard(index: 1, count: 4))
        // --array=10-40:10: ids 10, 20, 30, 40.
        let stepped = ["SLURM_ARRAY_TASK_ID": "30", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "10",
                       "SLURM_ARRAY_TASK_STEP": "10"]
        #expect(try Shard.fromEnvironment(stepped) == Shard(index: 3, count: 4))
        #expect(try Shard.fromEnvironment([:]) == nil)
        #expect(try Shard.fromEnvironment(["PATH": "/bin"]) == nil)
    }

    @Test("Slurm: missing companions, non-numbers and ids outside a contiguous array are refused by name")
    func slurmErrors() {
        let cases: [([String: String], String)] = [
            (["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0"], "SLURM_ARRAY_TASK_COUNT (unset)"),
            (["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"], "SLURM_ARRAY_TASK_MIN (unset)"),
            (["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0"], "SLURM_ARRAY_TASK_ID=x: not a whole number"),
            // --array=1,5,7 (a list): 7 - 1 = 6 is past the 3 tasks.
            (["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1"], "contiguous range"),
            (["SLURM_ARRAY_TASK_ID": "15", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "10",
              "SLURM_ARRAY_TASK_STEP": "10"], "not in the array"),
        ]
        for (environment, fragment) in cases {
            do {
                let shard = try Shard.fromEnvironment(environment)
                Issue.record("\(environment) must be refused, got \(String(describing: shard))")
            } catch {
                #expect(error.description.contains(fragment) && error.description.contains("--shard"), "\(error)")
            }
        }
    }

    @Test("Kubernetes: JOB_COMPLETION_INDEX is 0-based and needs DIVSEG_SHARD_COUNT; Slurm wins over it")
    func kubernetes() throws {
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0", "DIVSEG_SHARD_COUNT": "3"]) == Shard(index: 1, count: 3))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2", "DIVSEG_SHARD_COUNT": "3"]) == Shard(index: 3, count: 3))
        #expect(throws: ShardError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "3", "DIVSEG_SHARD_COUNT": "3"]) }
        do {
            _ = try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"])
            Issue.record("a completion index without a count must be refused")
        } catch {
            #expect(error.description.contains("DIVSEG_SHARD_COUNT (unset)") && error.description.contains("completions"), "\(error)")
        }
        let both = ["JOB_COMPLETION_INDEX": "0", "DIVSEG_SHARD_COUNT": "3",
                    "SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "4"]
        #expect(try Shard.fromEnvironment(both) == Shard(index: 2, count: 2))
    }

    @Test("a shard encodes as its text and decoding validates it")
    func codable() throws {
        let data = try JSONEncoder().encode([try Shard(parsing: "3/8")])
        #expect(String(decoding: data, as: UTF8.self) == #"["3\/8"]"# || String(decoding: data, as: UTF8.self) == #"["3/8"]"#)
        #expect(try JSONDecoder().decode([Shard].self, from: data) == [try Shard(parsing: "3/8")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Shard].self, from: Data(#"["9/8"]"#.utf8)) }
    }
}
