import Foundation
import LoupeCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads one file over HTTP(S) into place: streamed into a temporary file in the
/// destination's folder while its SHA-256 is computed, checked against the expected sum, then
/// renamed over the destination. A failed or mismatched download leaves nothing behind; every
/// error names the URL.
public struct Downloader: Sendable {
    /// Seconds without any data before the download is abandoned.
    public var timeout: Double

    public init(timeout: Double = 60) {
        self.timeout = timeout
    }

    public func download(_ url: String, to destination: String, sha256 expected: String) async throws {
        guard let location = URL(string: url), let scheme = location.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            throw LoupeError.invalidArgument(name: "url", message: "'\(url)' is not an http or https URL")
        }
        try Files.createDirectory(URL(fileURLWithPath: destination).deletingLastPathComponent().path)
        let temporary = Files.temporaryPath(beside: destination)
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary) else {
            throw LoupeError.file(path: temporary, message: "cannot create a temporary file for \(url)")
        }
        let digest: String
        do {
            digest = try await stream(location, into: handle)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            Files.remove(temporary)
            throw LoupeError.file(path: destination, message: "downloading \(url) failed: \(Self.reason(error))")
        }
        guard digest == expected.lowercased() else {
            Files.remove(temporary)
            throw LoupeError.file(path: destination,
                                  message: "SHA-256 of the download from \(url) is \(digest), expected \(expected); the file was not kept")
        }
        try Files.replace(destination, with: temporary)
    }

    /// Streams the body of `url` into `handle` and returns its SHA-256.
    private func stream(_ url: URL, into handle: FileHandle) async throws -> String {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let receiver = DownloadReceiver(handle: handle)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: receiver, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            receiver.continuation = continuation
            session.dataTask(with: url).resume()
        }
    }

    private static func reason(_ error: Error) -> String {
        if let failure = error as? DownloadFailure { return failure.message }
        if let error = error as? URLError {
            switch error.code {
            case .networkConnectionLost: return "the connection was closed before the whole file arrived"
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "cannot connect to the server"
            case .cannotFindHost, .dnsLookupFailed: return "cannot resolve the host name"
            case .notConnectedToInternet: return "no network connection"
            default: return "network error \(error.code.rawValue) (\(error.localizedDescription))"
            }
        }
        return "\(error)"
    }
}

private struct DownloadFailure: Error {
    let message: String
}

/// The session delegate: writes and hashes each piece as it arrives. Its callbacks run one at a
/// time on the session's serial queue, which is what makes the `@unchecked Sendable` sound.
private final class DownloadReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handle: FileHandle
    var continuation: CheckedContinuation<String, Error>?
    private var hasher = SHA256Sum()
    private var received: Int64 = 0
    private var failure: DownloadFailure?

    init(handle: FileHandle) {
        self.handle = handle
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        if let failure = Self.statusFailure(dataTask.response) {
            self.failure = failure
            dataTask.cancel()
            return
        }
        do {
            try handle.write(contentsOf: data)
        } catch {
            failure = DownloadFailure(message: "cannot write the temporary file: \(error.localizedDescription)")
            dataTask.cancel()
            return
        }
        hasher.update(data)
        received += Int64(data.count)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let continuation else { return }
        self.continuation = nil
        if let failure = failure ?? Self.statusFailure(task.response) {
            continuation.resume(throwing: failure)
        } else if let error {
            continuation.resume(throwing: error)
        } else if let expected = task.response?.expectedContentLength, expected >= 0, expected != received {
            continuation.resume(throwing: DownloadFailure(message: "the connection was closed after \(received) of \(expected) bytes"))
        } else {
            continuation.resume(returning: hasher.finalize())
        }
    }

    private static func statusFailure(_ response: URLResponse?) -> DownloadFailure? {
        guard let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) else { return nil }
        return DownloadFailure(message: "the server answered HTTP \(http.statusCode)")
    }
}
