import Foundation

/// Which files a process has open, read from Linux's `/proc/PID/fd`: lets a test see that
/// another process or thread has reached a point (say, opened a lock file and started to
/// wait on it) without guessing how long that takes.
public enum OpenFiles {
    /// How many descriptors of process `pid` (nil: this process) refer to the file at `path`.
    public static func count(of path: String, pid: Int32? = nil) -> Int {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let dir = "/proc/\(pid.map(String.init) ?? "self")/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return 0 }
        return entries.filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + entry)) == target
        }.count
    }

    /// Polls until `condition` holds, returning true, or until `givingUp` holds (say, the
    /// process being watched has exited), returning false. No deadline: what is awaited
    /// either happens or `givingUp` becomes true.
    public static func waitUntil(_ condition: () -> Bool, unless givingUp: () -> Bool) -> Bool {
        while true {
            if condition() { return true }
            if givingUp() { return condition() }
            usleep(2_000)
        }
    }
}
