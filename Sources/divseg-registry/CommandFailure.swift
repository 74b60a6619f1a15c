/// A command that cannot do its work with the data it was given (not a mistake in its
/// arguments): printed as `Error: …` without the usage text a ValidationError adds.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
