import DivSegIO
import Foundation
import Testing

@Suite("ImageInputs: folders expand to their images")
struct ImageInputsTests {
    static func tree() throws -> String {
        let root = NSTemporaryDirectory() + "divseg-inputs-" + UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/photos/sub", withIntermediateDirectories: true)
        for name in ["b.JPG", "a.png", "c.jpeg", "notes.txt", ".hidden.png", "sub/d.jpg"] {
            try Data([1]).write(to: URL(fileURLWithPath: root + "/photos/" + name))
        }
        try fm.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        return root
    }

    @Test("a folder gives its PNG and JPEG files sorted, without sub-folders unless asked")
    func folder() throws {
        let root = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let photos = root + "/photos"
        #expect(try ImageInputs.expand([photos]) == [photos + "/a.png", photos + "/b.JPG", photos + "/c.jpeg"])
        #expect(try ImageInputs.expand([photos], recursive: true)
                == [photos + "/a.png", photos + "/b.JPG", photos + "/c.jpeg", photos + "/sub/d.jpg"])
        // Files are passed on as given, in order, whatever their extension.
        #expect(try ImageInputs.expand([photos + "/notes.txt", photos]).first == photos + "/notes.txt")
    }

    @Test("a folder without images is an error naming it")
    func empty() throws {
        let root = try Self.tree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: FileAccessError.self) { try ImageInputs.expand([root + "/empty"]) }
        do {
            _ = try ImageInputs.expand([root + "/empty"])
        } catch {
            #expect("\(error)".contains(root + "/empty"))
        }
    }
}
