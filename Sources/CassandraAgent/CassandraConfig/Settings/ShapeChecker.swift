/// Checks a YAML node against a setting's shape and returns the value to
/// render. Used both on the operator's `settings` (marks in the desired-state
/// file) and on a rendered or installed cassandra.yaml (marks in that file), so
/// what the agent accepts and what the target Cassandra loads are one rule.
struct ShapeChecker {
    let version: CassandraVersion

    func check(_ node: YAMLNode, _ spec: SettingSpec, path: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        if node.isNull {
            guard spec.acceptsNull else {
                diagnostics.error("\(path) cannot be empty in Cassandra \(version): give a value or remove the key", at: node.mark)
                return nil
            }
            return .null
        }
        if let form = ValueForm.unitForm(of: spec.shape) {
            return checkUnitValue(node, form: form, path: path, &diagnostics)
        }
        return check(node, spec.shape, fields: spec.fields, path: path, &diagnostics)
    }

    func check(_ node: YAMLNode, _ shape: ValueShape, fields: [SettingSpec]? = nil, path: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        func wrongKind(_ expected: String) -> YAMLValue? {
            diagnostics.error("\(path) must be \(expected), found \(MappingReader.describe(node, path: path))", at: node.mark)
            return nil
        }
        let value = node.value
        switch shape.kind {
        case .boolean:
            guard case .scalar(let text, .plain, _) = node, text == "true" || text == "false" else { return wrongKind("true or false") }
            return .bool(text == "true")
        case .integer:
            guard case .scalar(_, .plain, _) = node, case .int(let number) = value else { return wrongKind("an integer") }
            guard number >= -shape.maximum - 1, number <= shape.maximum else {
                diagnostics.error("\(path) \(number) is out of range for a Java \(shape.width ?? "long") (at most \(shape.maximum))", at: node.mark)
                return nil
            }
            return .int(number)
        case .number:
            guard case .scalar(_, .plain, _) = node else { return wrongKind("a number") }
            switch value {
            case .int(let number): return .double(Double(number))
            case .double(let number): return .double(number)
            default: return wrongKind("a number")
            }
        case .string:
            guard case .scalar(let text, _, _) = node else { return wrongKind("a string") }
            return .string(text)
        case .enum:
            guard case .scalar(let text, _, _) = node else { return wrongKind("one of \(shape.values ?? [])") }
            let allowed = shape.values ?? []
            guard allowed.contains(text) else {
                diagnostics.error(
                    "\(path) must be one of \(allowed.joined(separator: ", ")), found '\(text)'\(Suggestion.hint(for: text, in: allowed))",
                    at: node.mark)
                return nil
            }
            return .string(text)
        case .list:
            guard case .sequence(let items, _) = node else { return wrongKind("a list") }
            var result: [YAMLValue] = []
            for (index, item) in items.enumerated() {
                guard let itemShape = shape.items else { result.append(item.value); continue }
                if let checked = check(item, itemShape, path: "\(path)[\(index)]", &diagnostics) { result.append(checked) }
            }
            return result.count == items.count ? .list(result) : nil
        case .map:
            guard case .mapping(let pairs, _) = node else { return wrongKind("a mapping") }
            var result: [(String, YAMLValue)] = []
            for (key, item) in pairs {
                let name = key.scalarText ?? "\(key.value)"
                if let keyShape = shape.keys, check(key, keyShape, path: "key of \(path)", &diagnostics) == nil { continue }
                if let valueShape = shape.valueShape {
                    if let checked = check(item, valueShape, path: "\(path).\(name)", &diagnostics) { result.append((name, checked)) }
                } else {
                    result.append((name, item.value))
                }
            }
            return result.count == pairs.count ? .map(result) : nil
        case .object:
            guard case .mapping = node else { return wrongKind("a mapping") }
            guard let fields else { return node.value }
            return checkObject(node, fields: fields, path: path, &diagnostics)
        case .parameterizedClass:
            return checkParameterizedClass(node, shape, path: path, &diagnostics)
        case .duration, .dataStorage, .dataRate:
            guard let form = ValueForm.unitForm(of: shape) else { return node.value }
            return checkUnitValue(node, form: form, path: path, &diagnostics)
        case .any:
            return value
        }
    }

    /// A nested option block: every field known, renamed fields taken by their old name too.
    func checkObject(_ node: YAMLNode, fields: [SettingSpec], path: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        guard let reader = MappingReader(node, context: path, diagnostics: &diagnostics) else { return nil }
        var result: [(String, YAMLValue)] = []
        var ok = true
        for entry in reader.entries {
            let spec = fields.first { $0.name == entry.key }
                ?? fields.first { $0.replaces.contains { $0.old == entry.key && $0.converter == "IDENTITY" } }
                ?? SettingFamilies.shared.identityRename(of: entry.key, among: fields)
            guard let spec else {
                diagnostics.error(
                    "unknown key '\(entry.key)' in \(path) for Cassandra \(version)\(Suggestion.hint(for: entry.key, in: fields.map(\.name)))",
                    at: entry.keyMark)
                ok = false
                continue
            }
            if result.contains(where: { $0.0 == spec.name }) {
                diagnostics.error("\(path) sets '\(spec.name)' twice (once by an older name)", at: entry.keyMark)
                ok = false
                continue
            }
            if let value = check(entry.value, spec, path: "\(path).\(spec.name)", &diagnostics) {
                result.append((spec.name, value))
            } else {
                ok = false
            }
        }
        return ok ? .map(result) : nil
    }

    /// `{class_name: X, parameters: {...}}`, the shipped list-of-one form of it, or
    /// (where Cassandra allows it) just the class name.
    func checkParameterizedClass(_ node: YAMLNode, _ shape: ValueShape, path: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        switch node {
        case .scalar(let text, _, _) where shape.scalarClassName:
            return .string(text)
        case .sequence(let items, _):
            guard items.count == 1 else {
                diagnostics.error("\(path) must hold exactly one class, found \(items.count)", at: node.mark)
                return nil
            }
            return checkParameterizedClass(items[0], shape, path: path, &diagnostics).map { .list([$0]) }
        case .mapping:
            guard var reader = MappingReader(node, context: path, diagnostics: &diagnostics) else { return nil }
            let before = diagnostics.errors.count
            var result: [(String, YAMLValue)] = []
            // An inheriting entry names another entry instead of (or as well as) a class.
            let inherits = shape.inherits ? reader.optional("inherits") : nil
            let className = inherits == nil ? reader.required("class_name", diagnostics: &diagnostics) : reader.optional("class_name")
            if let className, let text = MappingReader.string(className, "\(path).class_name", &diagnostics) {
                result.append(("class_name", .string(text)))
            }
            if let inherits, let text = MappingReader.string(inherits, "\(path).inherits", &diagnostics) {
                result.append(("inherits", .string(text)))
            }
            if let parameters = reader.optional("parameters") {
                switch parameters {
                case .mapping:
                    result.append(("parameters", parameters.value))
                case .sequence(let items, _) where items.allSatisfy({ if case .mapping = $0 { true } else { false } }):
                    result.append(("parameters", parameters.value))
                default:
                    diagnostics.error("\(path).parameters must be a mapping of names to values", at: parameters.mark)
                }
            }
            reader.rejectUnknownKeys(&diagnostics)
            return diagnostics.errors.count == before ? .map(result) : nil
        default:
            let expected = shape.scalarClassName ? "a class name or a mapping with class_name" : "a mapping with class_name and parameters"
            diagnostics.error("\(path) must be \(expected), found \(MappingReader.describe(node, path: path))", at: node.mark)
            return nil
        }
    }

    func checkUnitValue(_ node: YAMLNode, form: ValueForm, path: String, _ diagnostics: inout Diagnostics) -> YAMLValue? {
        UnitConversion(version: version).convert(node, from: form, to: form, path: path, &diagnostics)
    }
}
