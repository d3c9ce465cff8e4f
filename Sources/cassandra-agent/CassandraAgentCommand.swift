import ArgumentParser

@main
struct CassandraAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cassandra-agent",
        abstract: "Keeps a Cassandra node the way its desired-state file declares it.",
        subcommands: [])

    func run() throws {}
}
