import ArgumentParser

@main
struct DivSegRegistry: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "divseg-registry")
}
