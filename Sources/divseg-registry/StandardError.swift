import DivSegCore

/// Prints a line to standard error (diagnostics never mix with a command's output).
func printError(_ message: String) {
    ProgressReporter.writeToStandardError(message + "\n")
}
