import DivSegCore
import Testing

@Suite("MemorySize: --max-memory values with units")
struct MemorySizeTests {
    @Test("units are powers of 1024, with or without B/iB, any case; a decimal part is allowed")
    func parses() throws {
        #expect(try MemorySize(parsing: "4G").bytes == 4 << 30)
        #expect(try MemorySize(parsing: "4g").bytes == 4 << 30)
        #expect(try MemorySize(parsing: "4GiB").bytes == 4 << 30)
        #expect(try MemorySize(parsing: "4GB").bytes == 4 << 30)
        #expect(try MemorySize(parsing: " 512M ").bytes == 512 << 20)
        #expect(try MemorySize(parsing: "1.5G").bytes == 3 << 29)
        #expect(try MemorySize(parsing: "2T").bytes == 2 << 40)
        #expect(try MemorySize(parsing: "100K").bytes == 102_400)
        #expect(try MemorySize(parsing: "12345").bytes == 12345)
        #expect(try MemorySize(parsing: "4 G").bytes == 4 << 30)
        #expect(MemorySize(bytes: 4 << 30).description == "4.0 GiB")
    }

    @Test("anything else is refused with the text and an example", arguments: ["", "G", "4X", "-1G", "4GG", "four", "1e3G", "nanG", "99999999999T"])
    func refuses(_ text: String) {
        #expect(throws: MemorySize.ParseError.self) { try MemorySize(parsing: text) }
        do {
            _ = try MemorySize(parsing: text)
        } catch {
            #expect(error.text == text && error.description.contains("4G"))
        }
    }
}
