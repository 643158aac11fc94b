/// The `spawn:` section of a config: this run is a child that starts from another run's
/// checkpoint at `step` instead of from θ_0 (docs/lens.md §11, "Spawning"), and draws its own
/// data order from `order_seed`.
///
///     spawn: {parent: lmc-parent, step: 50, order_seed: 1}   # parent: a run's name or id
public struct SpawnSpec: Equatable, Sendable {
    /// How the config names the parent: an integer is a run id, text a run name.
    public enum Parent: Equatable, Sendable, CustomStringConvertible {
        case id(Int64)
        case name(String)

        public var description: String {
            switch self {
            case .id(let id): return "run \(id)"
            case .name(let name): return "run '\(name)'"
            }
        }
    }

    public var parent: Parent
    /// t′: the parent's state after this many steps is the child's starting state.
    public var step: Int
    /// The seed of the child's minibatch order (lens.md §11); the run's own `seed` (its parent's)
    /// by default, which continues the parent's order exactly.
    public var orderSeed: UInt64

    public init(parent: Parent, step: Int, orderSeed: UInt64) {
        self.parent = parent
        self.step = step
        self.orderSeed = orderSeed
    }

    /// Reads `spawn:` when the config has one (nil otherwise), checking what needs no database:
    /// the spawn step lies before the run's last step.
    static func read(_ root: SectionReader, seed: UInt64, steps: Int) throws -> (SpawnSpec, SectionReader)? {
        // Opened even when absent, so a misspelt `spwan:` is answered with `spawn`.
        let s = try root.section("spawn")
        guard root.has("spawn") else { return nil }
        let parent: Parent
        switch try s.intOrText("parent") {
        case .int(let id)?:
            guard id >= 1 else { throw ConfigError("spawn.parent: \(id) is not a run id (ids start at 1)") }
            parent = .id(Int64(id))
        case .string(let name)? where !name.trimmingCharacters(in: .whitespaces).isEmpty:
            parent = .name(name)
        default:
            throw ConfigError("spawn.parent: missing; give the run to spawn from, by name or id")
        }
        guard s.has("step") else { throw ConfigError("spawn.step: missing; give the parent's step t′ to start from") }
        let step = try s.int("step", default: 0, in: 0...Int.max)
        guard step < steps else {
            throw ConfigError("spawn.step: \(step) is not before the run's last step (steps: \(steps)); a child trains from spawn.step to steps")
        }
        let orderSeed = try s.uint64("order_seed", default: seed)
        return (SpawnSpec(parent: parent, step: step, orderSeed: orderSeed), s)
    }
}
