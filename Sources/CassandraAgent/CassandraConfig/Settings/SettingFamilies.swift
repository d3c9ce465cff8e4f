/// The renames of cassandra.yaml settings across all supported versions, as
/// families of names that mean one setting: `compaction_throughput_mb_per_sec`
/// (3.11, 4.0) and `compaction_throughput` (4.1+) are one family, and so are
/// `internode_send_buff_size_in_bytes` (3.11),
/// `internode_socket_send_buffer_size_in_bytes` (4.0) and
/// `internode_socket_send_buffer_size` (4.1+).
struct SettingFamilies: Sendable {
    let index: SettingIndex
    private let root: [String: String]

    static let shared = SettingFamilies(index: .shared)

    init(index: SettingIndex) {
        self.index = index
        var parent: [String: String] = [:]
        func find(_ name: String) -> String {
            var current = name
            while let next = parent[current], next != current { current = next }
            return current
        }
        for rename in index.renames {
            let (a, b) = (find(rename.old), find(rename.new))
            if a != b { parent[a] = b }
        }
        var root: [String: String] = [:]
        for rename in index.renames {
            root[rename.old] = find(rename.old)
            root[rename.new] = find(rename.new)
        }
        self.root = root
    }

    /// Every name of the setting `name` belongs to (itself included).
    func family(of name: String) -> Set<String> {
        guard let r = root[name] else { return [name] }
        return Set(root.filter { $0.value == r }.keys)
    }

    /// The name this setting has in `version`, if it exists there.
    func member(of name: String, in version: CassandraVersion) -> String? {
        guard root[name] != nil else { return index.has(name, in: version) ? name : nil }
        return family(of: name).sorted().first { index.has($0, in: version) }
    }

    /// The converter of the rename whose old side is `name`, preferring the newest version's.
    func converter(forOldName name: String) -> String? {
        index.renames.last { $0.old == name }?.converter
    }

    /// True when `a` and `b` are linked through a converter that changes what
    /// the value means (the 5.0 guardrail counts), so the agent must not convert.
    func changesMeaning(_ a: String, _ b: String) -> Bool {
        index.renames.contains { ($0.old == a || $0.old == b || $0.new == a || $0.new == b) && ValueForm.oldForm(of: $0.converter) == nil }
    }

    /// The form `name` writes its value in, for `version`.
    func form(of name: String, in version: CassandraVersion) -> ValueForm {
        if let unitForm = index.unitForm(of: name, in: version) { return unitForm }
        if let converter = converter(forOldName: name), let form = ValueForm.oldForm(of: converter) { return form }
        return .unchanged
    }

    /// The versions in which `name` is a cassandra.yaml key.
    func versions(having name: String) -> [CassandraVersion] {
        CassandraVersion.allCases.filter { index.has(name, in: $0) }
    }

    /// A nested field known in this version by another name through a pure rename
    /// (`enable_legacy_ssl_storage_port` <-> `legacy_ssl_storage_port_enabled`).
    func identityRename(of name: String, among fields: [SettingSpec]) -> SettingSpec? {
        for rename in index.fieldRenames {
            if rename.old == name, let match = fields.first(where: { $0.name == rename.new }) { return match }
            if rename.new == name, let match = fields.first(where: { $0.name == rename.old }) { return match }
        }
        return nil
    }
}
