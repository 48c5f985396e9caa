/// What a command-line run ends with, as the design's exit-code table says.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// The run finished, but some items failed; the stats say which.
    case itemErrors = 1
    /// Usage or configuration error.
    case usage = 2
    /// A remote could not be reached or refused our credentials.
    case remote = 3
    /// The mirror file is busy or unusable.
    case mirror = 4
}

/// An error that knows how to explain itself to the person at the terminal.
///
/// `description` is the sentence printed to the user: it names what failed and what to do,
/// and never carries a secret or row data.
public protocol UserFacingError: Error, CustomStringConvertible, Sendable {
    var exitStatus: ExitStatus { get }
}

/// A configuration problem found before any work started.
public struct ConfigurationError: UserFacingError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var exitStatus: ExitStatus { .usage }
}
