import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

@Suite("File digests")
struct FileDigestTests {
    @Test("SHA-256 of the real weights file matches the published digest")
    func weights() throws {
        let digest = try FileDigest.sha256(ofFileAt: SharedData.weights)
        #expect(digest == "6d4e168420f0c8083f534674e63ed1d2600b9ad8eaaefe9ccbb16f528f4dbd1a")
    }

    @Test("known vector and a missing file")
    func knownVectorAndMissing() {
        #expect(FileDigest.sha256(of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(throws: FileDigest.DigestError.unreadable(path: "/nonexistent/x")) {
            try FileDigest.sha256(ofFileAt: "/nonexistent/x")
        }
    }
}
