/// A stop-gap for the agent's remaining `wallClockSeconds()` callers (Commands/,
/// Daemon/) while they move to an injected `WallClock`: the function of that
/// name now belongs to the simulator (CassandraSimulation), which the agent does
/// not link. Delete this file once nothing in CassandraAgent calls it.
func wallClockSeconds() -> Double {
    SystemClock().now()
}
