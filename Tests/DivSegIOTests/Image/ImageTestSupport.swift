import DivSegIO
import DivSegTestSupport
import Foundation
import Testing

/// Shared paths, fixtures and helpers of the image I/O tests. The shared data
/// (``SharedData``) is read-only and is only ever read; files are written to temporary
/// directories.
enum ImageTestSupport {
    static var cocoImages: String { SharedData.cocoMiniImages }
    static var cocoMasks: String { SharedData.cocoMiniMasks }
    static var vocMasks: String { SharedData.voc2012Masks }
    static var vggReference: String { SharedData.referenceDir }

    /// Sorted full paths of the files in `directory` ending in `suffix`.
    static func files(in directory: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(suffix) }.sorted().map { directory + "/" + $0 }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// RGB (or gray) values of pixel (x, y).
    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * image.width + x) * image.channels
        return Array(image.pixels[i..<i + image.channels])
    }

    /// Per-channel sums, to compare whole images against Pillow with one number each.
    static func channelSums(_ image: Image) -> [Int] {
        var sums = [Int](repeating: 0, count: image.channels)
        image.pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                for c in 0..<image.channels { sums[c] += Int(p[i + c]) }
                i += image.channels
            }
        }
        return sums
    }

    /// The error `body` throws, or nil (recording an issue) if it succeeds.
    static func error<T>(sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws(ImageError) -> T) -> ImageError? {
        do {
            _ = try body()
            Issue.record("expected an ImageError, but decoding succeeded", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// Runs `body` with a fresh temporary directory, removed afterwards.
    static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("divseg-image-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try body(dir)
    }

    /// Deterministic pseudo-random bytes (64-bit LCG), so failures are reproducible.
    static func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    // MARK: - Small JPEGs made with Pillow (13.0, libjpeg-turbo 3.2), embedded as base64:
    //   y, x = np.mgrid[0:32, 0:48]
    //   rgb = np.stack([(x*5) % 256, (y*8) % 256, ((x+y)*3) % 256], -1).astype(np.uint8)
    //   Image.fromarray(rgb).save(f, "JPEG", quality=90)                     -> baselineJPEG
    //   Image.fromarray(rgb).save(f, "JPEG", quality=90, progressive=True)   -> progressiveJPEG
    //   gray 16×16: (x*16 + y*3) % 256, quality=90                            -> grayJPEG
    //   CMYK 16×16: Image.fromarray(np.stack([x*16, y*16, (x+y)*8, (x*y) % 256], -1)
    //               .astype(np.uint8), "CMYK"), quality=95 (Adobe APP14, inverted) -> cmykJPEG

    static let baselineJPEG = decode("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAgADADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD86tP8I/d+T9K6fTvCPI+T9K9E07wjwPk/Sun0/wAI/d+T9K5aOLPEyriHbU8707wj0+T9K6fTvCPA+T9K9F07wjyPk/Sun07wj0+T9K9yjiz9gyriHbU8707wjyPk/Sun07wj0+T9K9E07wjwPk/Sun07wjyPk/Svco4s/Ycq4h21PJ9O8I8j5P0rp9O8I8D5P0r0TT/CP3fk/Suo07wjyPk/SvxajivM/wApcq4h294860/wj935P0rqNO8I8j5P0r0TTvCPA+T9K6fT/CP3fk/Svco4rzP2DKuIdvePOtO8I9Pk/Suo07wjwPk/SvRNO8I8j5P0rp9O8I9Pk/Svco4rzP2HKuIdveP/2Q==")
    static let progressiveJPEG = decode("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wgARCAAgADADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABQYI/8QAFwEBAQEBAAAAAAAAAAAAAAAABAYDCP/aAAwDAQACEAMQAAABzopRJ5BnVKJR1hOp0SjrGTTolIrlKdUok3WE6pRJusP/xAAWEAADAAAAAAAAAAAAAAAAAAAAAwT/2gAIAQEAAQUCXILkFyC5BcguQXILkFyC5BcguQXILkFyC5BcguQXILkFyC5BcguQ/8QAFxEAAwEAAAAAAAAAAAAAAAAAAAQFYf/aAAgBAwEBPwFWgK0BWgK0NFaGitDT/8QAFhEAAwAAAAAAAAAAAAAAAAAAAAID/9oACAECAQE/AUqJUSolRKiVP//EABQQAQAAAAAAAAAAAAAAAAAAAED/2gAIAQEABj8CR//EABcQAQEBAQAAAAAAAAAAAAAAAABhITH/2gAIAQEAAT8h44iiiiii44iiiiii44iii44ii44ii//aAAwDAQACAAMAAAAQlpYeGH//xAAWEQEBAQAAAAAAAAAAAAAAAAAAMSH/2gAIAQMBAT8Qnqep6mTJn//EABYRAQEBAAAAAAAAAAAAAAAAAABhEP/aAAgBAgEBPxDVaKKP/8QAGRAAAwEBAQAAAAAAAAAAAAAAAAHBITHx/9oACAEBAAE/EPBNlJykyUmyk5SZKTwTZScpMlJspNlJkpPBNlJykyUngmykyUngmyk5Sf/Z")
    static let grayJPEG = decode("/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/wAALCAAQABABAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APlv9m3RP+PX5fSv1A+DV9pfgbwrf+JNbuPsWi6PZS6hfXPltJ5MESGSR9qAs2FUnCgk44BNfn/+zbon/Hr8vpX2X8ftavvAH7FnxM1PT4Lea4n0yPSmW5VmURXk8VnKwCkHcI7hypzgMFJBGQf/2Q==")
    static let cmykJPEG = decode("/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgAEAAQBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD9HP8AgpJ/y/8A/Aq/Rz/h5J/1H/8AyLX6OftJftJf8fH+n+v8VfuX8QPiB/wiu/8Af7due9fz/wD/AAUk/wCX/wD4FR/w8k/6j/8A5Fr8/wD9pL9pL/j4/wBP9f4q8P8AiB+2l/wiu/8A4m23bn+Ov6AP+Ckn/L//AMCr+f8A/wCHkn/Uf/8AItH7SX7SX/Hx/p/r/FR+2l8QP+EV+1/v9u3d3r+f/wD4KSf8v/8AwKj/AIeSf9R//wAi1+f/AO0l+0l/x8f6f6/xV+R/7aX7aX/CK/a/+Jtt27v46//Z")

    private static func decode(_ base64: String) -> [UInt8] {
        [UInt8](Data(base64Encoded: base64)!)
    }
}
