import ArgumentParser
import DivSegCore
import Foundation

/// `--shard INDEX/COUNT` of the per-image stages (`features`, `retrain --sample-only`,
/// `evaluate`): run only this process's share of the images. Without the option, a Slurm job
/// array or a Kubernetes Indexed Job names the shard (``Shard/fromEnvironment(_:)``);
/// `--shard 1/1` runs the whole stage even there.
struct ShardOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Run only shard INDEX of COUNT (1-based, e.g. 2/4) of the images.",
        discussion: "Images are assigned round-robin by position in the sorted image list (0-based position p goes to shard p % COUNT + 1). Default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT/SLURM_ARRAY_TASK_MIN in a Slurm job array, or JOB_COMPLETION_INDEX with \(Shard.countVariable) in a Kubernetes Indexed Job; else the whole stage. --shard 1/1 overrides the environment.",
        valueName: "index/count"),
            transform: { text in
                do { return try Shard(parsing: text) } catch { throw ValidationError(String(describing: error)) }
            })
    var shard: Shard?

    /// The explicit shard, else the environment's, else nil (no sharding asked for: the
    /// whole stage); a shard taken from the environment is announced on standard error.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        if let shard { return shard }
        guard let found = try Shard.fromEnvironment(environment) else { return nil }
        printError("note: shard \(found) from the environment (\(environment["SLURM_ARRAY_TASK_ID"] != nil ? "Slurm job array" : "Kubernetes Indexed Job")); --shard 1/1 runs every image")
        return found
    }
}
