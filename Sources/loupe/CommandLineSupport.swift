import Foundation
import LoupeCore
import LoupeData

/// What a user reads when a command fails: Loupe's own errors as they are; a Foundation error
/// (a folder that cannot be made, a file that cannot be written) as the path and the system's
/// reason, never an `NSCocoaErrorDomain` dump.
func userMessage(_ error: Error) -> String {
    if let error = error as? LoupeError { return error.description }
    let ns = error as NSError
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    var reason: String?
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(underlying.code)))
    } else if ns.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(ns.code)))
    } else if ns.domain == NSCocoaErrorDomain {
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: reason = "does not exist"
        case .fileWriteFileExists: reason = "already exists (and is not a folder)"
        case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
        case .fileWriteOutOfSpace: reason = "no space left on the device"
        case .fileWriteVolumeReadOnly: reason = "the volume is read-only"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: reason = "cannot be read as text"
        default: reason = nil
        }
    }
    let what = reason ?? "cannot be read or written"
    return path.map { "\($0): \(what)" } ?? "\(what) (\(ns.localizedDescription))"
}

/// `loupe rnu` and `loupe data gte`: the unknown command named, with the closest one, before
/// the argument parser would call it an unexpected argument. nil when the arguments start with a
/// known command (or an option).
func unknownCommandMessage(_ arguments: [String], commands: [String], subcommands: [String: [String]]) -> String? {
    guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
    guard commands.contains(first) else { return suggestion("command", first, among: commands, prefix: "loupe") }
    guard let inner = subcommands[first], let second = arguments.dropFirst().first, !second.hasPrefix("-"),
          !inner.contains(second) else { return nil }
    return suggestion("command", second, among: inner, prefix: "loupe \(first)")
}

private func suggestion(_ kind: String, _ word: String, among names: [String], prefix: String) -> String {
    var message = "unknown \(kind) '\(prefix) \(word)'"
    if let close = closestName(word, among: names) { message += "; did you mean '\(prefix) \(close)'?" }
    return message + " (\(prefix) has \(names.joined(separator: ", ")); see \(prefix) --help)"
}

/// The catalog's dataset names, for help texts.
let catalogNames = DatasetCatalog.standardEntries.map(\.name).joined(separator: ", ")
