/// The renames of cassandra.yaml settings across all supported versions, as
/// families of names that mean one setting: `compaction_throughput_mb_per_sec`
/// (3.11, 4.0) and `compaction_throughput` (4.1+) are one family, and so are
/// `internode_send_buff_size_in_bytes` (3.11),
/// `internode_socket_send_buffer_size_in_bytes` (4.0) and
/// `internode_socket_send_buffer_size` (4.1+).
struct SettingFamilies: Sendable {
    struct Rename: Sendable {
        let old: String
        let new: String
        let converter: String
    }

    private var renames: [Rename] = []
    private var parent: [String: String] = [:]

    static let shared = SettingFamilies()

    init() {
        for version in CassandraVersion.allCases {
            for spec in CassandraSchema.of(version).settings {
                for replacement in spec.replaces {
                    renames.append(Rename(old: replacement.old, new: spec.name, converter: replacement.converter))
                    union(replacement.old, spec.name)
                }
            }
        }
    }

    private func root(_ name: String) -> String {
        var current = name
        while let next = parent[current], next != current { current = next }
        return current
    }

    private mutating func union(_ a: String, _ b: String) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[ra] = rb }
        if parent[rb] == nil { parent[rb] = rb }
    }

    /// Every name of the setting `name` belongs to (itself included).
    func family(of name: String) -> Set<String> {
        let r = root(name)
        var members: Set<String> = [name]
        for rename in renames where root(rename.old) == r {
            members.insert(rename.old)
            members.insert(rename.new)
        }
        return members
    }

    /// The name this setting has in `schema`, if it exists there.
    func member(of name: String, in schema: CassandraSchema) -> String? {
        family(of: name).sorted().first { schema[$0] != nil }
    }

    /// The converter of the rename whose old side is `name`, preferring the newest version's.
    func converter(forOldName name: String) -> String? {
        renames.last { $0.old == name }?.converter
    }

    /// True when `a` and `b` are linked only through a converter that changes what
    /// the value means (the 5.0 guardrail counts), so the agent must not convert.
    func changesMeaning(_ a: String, _ b: String) -> Bool {
        renames.contains { ($0.old == a || $0.old == b || $0.new == a || $0.new == b) && ValueForm.oldForm(of: $0.converter) == nil }
    }

    /// The form `name` writes its value in, for `version`.
    func form(of name: String, in version: CassandraVersion) -> ValueForm {
        if let spec = CassandraSchema.of(version)[name], let unitForm = ValueForm.unitForm(of: spec.shape) {
            return unitForm
        }
        if let converter = converter(forOldName: name), let form = ValueForm.oldForm(of: converter) {
            return form
        }
        return .unchanged
    }

    /// The versions in which `name` is a cassandra.yaml key.
    func versions(having name: String) -> [CassandraVersion] {
        CassandraVersion.allCases.filter { CassandraSchema.of($0)[name] != nil }
    }

    /// A nested field known in this version by another name through a pure rename
    /// (`enable_legacy_ssl_storage_port` <-> `legacy_ssl_storage_port_enabled`).
    func identityRename(of name: String, among fields: [SettingSpec]) -> SettingSpec? {
        for version in CassandraVersion.allCases.reversed() {
            for spec in CassandraSchema.of(version).settings {
                for field in spec.fields ?? [] {
                    for replacement in field.replaces where replacement.converter == "IDENTITY" {
                        if replacement.old == name, let match = fields.first(where: { $0.name == field.name }) { return match }
                        if field.name == name, let match = fields.first(where: { $0.name == replacement.old }) { return match }
                    }
                }
            }
        }
        return nil
    }
}
