// The comparison point for the agent's memory and start-up: a trivial Swift
// program that imports only FoundationEssentials. `hello` prints and exits;
// `hello wait` stays up (idle) until it is sent SIGTERM.
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

let date = Date()
print("hello \(date.timeIntervalSince1970 > 0)")
if CommandLine.arguments.dropFirst().first == "wait" {
    while true { pause() }
}
