import Foundation
import LoupeCore

/// Which trials of an experiment one `loupe run` runs: all of them, the indices `--trial` lists,
/// the shard `--shard i/n` names, or the index an array job's environment gives
/// (`--trial-from-env`). Indices are the experiment's trial indices (`Trial.index`, as `loupe
/// trials` lists them), so one experiment file and one results folder serve every task of an
/// array job: each task runs its own indices, into its own trial folders.
public enum TrialSelection: Sendable, Equatable {
    case all
    case indices([Int])
    /// Every trial whose index is `shard` modulo `count` (`shard` in 0..<count).
    case shard(Int, of: Int)

    /// The environment variables `--trial-from-env` reads when given none: SLURM's array task
    /// id, then the completion index of a Kubernetes Indexed Job.
    public static let defaultEnvironmentVariables = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]

    /// `--trial 3`, `--trial 0,4,8-11` (repeatable: the lists are joined).
    public static func parseIndices(_ texts: [String], flag: String = "--trial") throws -> [Int] {
        var indices: [Int] = []
        for text in texts {
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = part.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let low = Int(bounds[0]), low >= 0, bounds.count == 1 || Int(bounds[1]) != nil else {
                    throw LoupeError.invalidArgument(name: "\(flag) \(text)", message: "must be trial indices from 0, e.g. 3 or 0,4,8-11 (see loupe trials FILE)")
                }
                let high = bounds.count == 2 ? Int(bounds[1])! : low
                guard high >= low else {
                    throw LoupeError.invalidArgument(name: "\(flag) \(text)", message: "the range \(part) runs backwards")
                }
                indices += Array(low...high)
            }
        }
        return indices
    }

    /// `--shard i/n`: shard i (from 0) of n.
    public static func parseShard(_ text: String) throws -> TrialSelection {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let shard = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(shard) else {
            throw LoupeError.invalidArgument(name: "--shard \(text)", message: "must be i/n with n at least 1 and i from 0 to n-1, e.g. 0/4")
        }
        return .shard(shard, of: count)
    }

    /// The index in the first of `variables` that is set (each named in the error when none is,
    /// or when the value is not an index).
    public static func fromEnvironment(_ variables: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TrialSelection {
        guard !variables.isEmpty else { throw LoupeError.invalidArgument(name: "--trial-from-env", message: "name an environment variable") }
        for variable in variables {
            guard let value = environment[variable], !value.isEmpty else { continue }
            guard let index = Int(value.trimmingCharacters(in: .whitespaces)), index >= 0 else {
                throw LoupeError.invalidArgument(name: "--trial-from-env", message: "\(variable)=\(value) is not a trial index")
            }
            return .indices([index])
        }
        throw LoupeError.invalidArgument(name: "--trial-from-env", message: "none of \(variables.joined(separator: ", ")) is set (is this a SLURM array task or a Kubernetes Indexed Job?)")
    }

    /// The indices of an experiment of `count` trials this selection runs, in increasing order,
    /// each once; throws naming the flag when an index is past the last trial.
    public func resolve(count: Int) throws -> [Int] {
        switch self {
        case .all: return Array(0..<count)
        case let .shard(shard, of: shards): return Array(stride(from: shard, to: count, by: shards))
        case let .indices(indices):
            if let bad = indices.first(where: { $0 >= count }) {
                throw LoupeError.invalidArgument(name: "--trial \(bad)", message: "the experiment has \(count) trial\(count == 1 ? "" : "s"), indices 0 to \(count - 1) (see loupe trials FILE)")
            }
            return Array(Set(indices)).sorted()
        }
    }

    /// The `--array=` list of `indices` for SLURM (runs of consecutive indices as ranges: `0-3,7,9-10`).
    public static func arrayList(_ indices: [Int]) -> String {
        var parts: [String] = [], sorted = Array(Set(indices)).sorted(), i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}

/// What `loupe run` exits with, for a scheduler to act on (SLURM's requeue, a Kubernetes Job's
/// `podFailurePolicy`): documented in the README and `loupe run --help`.
public enum RunExitCode {
    /// Every trial it ran completed, or had completed before.
    public static let done: Int32 = 0
    /// A trial failed for a reason a retry will not change by itself (an error in a trial).
    public static let failed: Int32 = 1
    /// A usage or configuration error: nothing ran; never worth retrying.
    public static let usage: Int32 = 2
    /// A trial diverged (NaN or infinite loss or gradient): a result, the same on every retry.
    public static let diverged: Int32 = 3
    /// A transient failure worth retrying: an I/O error, a full disk or quota, a stale network
    /// file, or the trial being run by another process right now (`EX_TEMPFAIL`).
    public static let transient: Int32 = 75
    /// SIGINT and SIGTERM: each running trial wrote a checkpoint; running it again resumes.
    public static func stopped(signal: Int32) -> Int32 { 128 + signal }

    /// The code of an error that stopped `loupe run` before or outside its trials.
    public static func of(_ error: any Error) -> Int32 {
        if isTransient(error) { return transient }
        switch error as? LoupeError {
        case .config?, .invalidArgument?, .shapeMismatch?: return usage
        // A file the experiment names is missing or unreadable: the experiment must change.
        case .file?: return usage
        case nil: return failed
        }
    }

    /// The code of a run's trials: transient before failed before diverged, else done.
    public static func of(_ outcomes: [TrialOutcome]) -> Int32 {
        if outcomes.contains(where: { $0.isTransientFailure }) { return transient }
        if outcomes.contains(where: { $0.summary.status == .failed }) {
            // An experiment whose settings no trial can build (a model that does not fit the data)
            // fails every trial the same way: a configuration error.
            if outcomes.allSatisfy({ $0.summary.status == .failed && $0.error.map { of($0) == usage } == true }) { return usage }
            return failed
        }
        if outcomes.contains(where: { $0.summary.status == .diverged }) { return diverged }
        return done
    }

    /// errno values a retry may cure, as `strerror` words them (the atomic writer and the readers
    /// put that text in their `LoupeError.file` messages).
    static let transientErrors: [Int32] = [EIO, ENOSPC, EDQUOT, ESTALE, ETIMEDOUT, EAGAIN, EINTR, ENOLCK, EBUSY, ENETDOWN, ENETUNREACH, ECONNRESET, EHOSTUNREACH, ENOMEM]

    public static func isTransient(_ error: any Error) -> Bool {
        if error is TrialBusy { return true }
        if let error = error as? LoupeError {
            let text = error.description
            return transientErrors.contains { text.contains("(\(String(cString: strerror($0))))") }
        }
        var current: NSError? = error as NSError
        while let nsError = current {
            if nsError.domain == NSPOSIXErrorDomain && transientErrors.contains(Int32(nsError.code)) { return true }
            current = nsError.userInfo[NSUnderlyingErrorKey] as? NSError
        }
        return false
    }
}

/// How one trial of a run ended: its summary, and the error when it failed.
public struct TrialOutcome: Sendable {
    public var summary: TrialSummary
    public var error: (any Error)?
    public var isTransientFailure: Bool { summary.status == .failed && error.map(RunExitCode.isTransient) == true }
}

/// Another process holds the trial's lock (`TrialLock`).
public struct TrialBusy: Error, CustomStringConvertible {
    public let id: String
    public var description: String { "trial \(id) is being run by another process right now; try again when it ends" }
}

/// An exclusive lock on one trial of a results folder, held while a process runs it, so two
/// tasks given the same index (a scheduler's retry while the first still runs) never write one
/// folder at once, and `loupe sweep status` can tell a running trial from one whose process died.
/// It is a POSIX record lock (`fcntl`) on `trials/.<id>.lock`, an empty file beside the trial's
/// folder (the folder itself is replaced when a trial starts afresh): the kernel drops it when
/// the process ends, however it ends; NFS carries it to the server (NLM or NFSv4 locks), and
/// another process can test it without taking it (`F_GETLK`). A process must not open the file
/// of a lock it holds elsewhere: closing any descriptor of it drops the process's lock.
public final class TrialLock {
    let descriptor: Int32

    public static func url(of id: String, in layout: ExperimentLayout) -> URL {
        layout.trialsFolder.appendingPathComponent(".\(id).lock")
    }

    /// The whole file, for `fcntl`.
    static func region(_ type: Int32) -> flock {
        var region = flock()
        region.l_type = Int16(type)
        region.l_whence = Int16(SEEK_SET)
        region.l_start = 0
        region.l_len = 0
        return region
    }

    /// Takes the lock, or throws `TrialBusy` when another process holds it.
    public init(id: String, layout: ExperimentLayout) throws {
        let url = Self.url(of: id, in: layout)
        try FileManager.default.createDirectory(at: layout.trialsFolder, withIntermediateDirectories: true)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw LoupeError.file(path: url.path, message: "cannot be opened as the trial's lock (\(String(cString: strerror(errno))))")
        }
        var region = Self.region(F_WRLCK)
        guard fcntl(descriptor, F_SETLK, &region) == 0 else {
            let code = errno
            close(descriptor)
            if code == EAGAIN || code == EACCES { throw TrialBusy(id: id) }
            throw LoupeError.file(path: url.path, message: "cannot be locked (\(String(cString: strerror(code))))")
        }
    }

    deinit { close(descriptor) }

    /// Whether another process holds the lock of trial `id` now (tested, not taken).
    public static func isHeld(id: String, layout: ExperimentLayout) -> Bool {
        let descriptor = open(url(of: id, in: layout).path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var region = Self.region(F_RDLCK)
        guard fcntl(descriptor, F_GETLK, &region) == 0 else { return false }
        return region.l_type != Int16(F_UNLCK)
    }
}
