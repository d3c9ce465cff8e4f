#!/usr/bin/env python3
"""Turns the cassandra-config data set (../shared/cassandra-config/cassandra-<v>.json)
into the project's own compact schema, one Swift file per Cassandra version that
builds the schema from plain Swift initialisers: nothing is parsed or decoded at run
time (a JSON literal decoded with JSONDecoder cost about 40 M instructions per
process), and a version's schema is built only when that version is used.

Run from the repository root:  python3 tools/generate-settings-schema.py [DATASET_DIR]
The output is deterministic; CI checks that the committed files are current.
"""
import json, os, re, sys

VERSIONS = ["3.11", "4.0", "4.1", "5.0"]
OUT_DIR = "Sources/CassandraAgent/CassandraConfig/Schema/Generated"


def shape(v):
    """The value shape: only what validation and rendering need."""
    out = {"kind": v["kind"]}
    if v["kind"] == "enum":
        out["values"] = v["values"]
    if v["kind"] == "list":
        out["items"] = shape(v["items"])
    if v["kind"] == "map":
        out["keys"] = shape(v["keys"])
        out["values"] = shape(v["values"])  # a map's value shape; enums use "values" as strings
        out["valueShape"] = out.pop("values")
    if v["kind"] in ("duration", "data_storage", "data_rate"):
        out["minUnit"] = v["min_unit"]
        out["width"] = v["java_width"]
    if v["kind"] == "integer":
        out["width"] = v.get("java_width", "long")
    if v["kind"] == "parameterized_class":
        out["scalarClassName"] = bool(v.get("scalar_class_name_allowed"))
        if v.get("inherits_allowed"):
            out["inherits"] = True
    return out


def ordered(value):
    """JSON objects become {"ordered": [[key, value], ...]}: a decoder may not keep
    key order, and Cassandra reads some maps in order (memtable configurations)."""
    if isinstance(value, dict):
        return {"ordered": [[k, ordered(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


def setting(name, k, top_level):
    s = {"name": name, "shape": shape(k["value"])}
    if k.get("nullable"):
        s["nullable"] = True
    if k.get("default") is None:
        s["defaultIsNull"] = True
    if k.get("deprecated"):
        s["deprecated"] = True
    reps = [{"old": r["old_name"], "converter": r["converter"]} for r in (k.get("replaces_detail") or [])]
    if reps:
        s["replaces"] = reps
    if "fields" in k:
        s["fields"] = [setting(n, f, False) for n, f in sorted(k["fields"].items())]
    if top_level:
        if k.get("in_default_yaml"):
            s["shipped"] = {"value": ordered(k.get("default_yaml_value"))}
        hot = k.get("hot_settable")
        s["hot"] = "yes" if hot is True else ("partly" if hot is None else "no")
        setters = (k.get("runtime_setters") or {}).get("nodetool") or []
        if setters:
            s["nodetool"] = sorted(setters)
    return s


def condition(text):
    m = re.fullmatch(r"(\w+) == (\w+)", text.strip())
    if m:
        return {"key": m.group(1), "equals": m.group(2)}
    m = re.match(r"(\w+) == (\w+) and cassandra.storagedir", text.strip())
    if m:  # the agent always renders storage directories explicitly
        return {"key": m.group(1), "equals": m.group(2)}
    if "cassandra.storagedir" in text:
        return {"always": True}
    raise SystemExit(f"unknown condition: {text}")


def convert(d):
    req = d["required"]
    conditional = []
    for c in req["conditional"]:
        rule = {"when": condition(c["when"])}
        if c.get("require"):
            rule["require"] = c["require"]
        if c.get("forbid"):
            rule["forbid"] = c["forbid"]
        text = c.get("rule", "")
        if c.get("require") and ("non-zero" in text or "> 0" in text):
            rule["nonZero"] = True  # a zero value counts as missing
        if c.get("forbid") and "zero" in text:
            rule["allowZero"] = True  # "must be unset or zero"
        conditional.append(rule)
    return {
        "version": d["version"],
        "release": d["release"],
        "settings": [setting(n, k, True) for n, k in sorted(d["keys"].items())],
        "oldNames": dict(sorted((d.get("old_names") or {}).items())),
        "required": req["always"],
        "conditional": conditional,
        "mutuallyExclusive": req.get("mutually_exclusive", []),
        "rackdcKeys": sorted(k["key"] for k in d["rackdc_keys"]),
        "reloadSSL": bool((d.get("ssl") or {}).get("nodetool_reloadssl")),
    }


def index_lines(datasets):
    """A compact cross-version index, so resolving a name against other versions
    does not build their whole schema (rows, written out as Swift literals):
      key <TAB> version <TAB> name <TAB> kind [<TAB> min_unit <TAB> width]
      rename <TAB> old <TAB> new <TAB> converter          (top level, every version)
      field-rename <TAB> old <TAB> new                    (IDENTITY renames of nested fields)
      old <TAB> version <TAB> old name <TAB> current name (the 4.1+ loader's old names)
    """
    lines, renames, field_renames = [], [], []
    for v, d in datasets:
        for name, k in sorted(d["keys"].items()):
            value = k["value"]
            row = ["key", v, name, value["kind"]]
            if value["kind"] in ("duration", "data_storage", "data_rate"):
                row += [value["min_unit"], value["java_width"]]
            lines.append("\t".join(row))
            for r in k.get("replaces_detail") or []:
                renames.append("\t".join(["rename", r["old_name"], name, r["converter"]]))
            for fname, fk in (k.get("fields") or {}).items():
                for r in fk.get("replaces_detail") or []:
                    if r["converter"] == "IDENTITY":
                        field_renames.append("\t".join(["field-rename", r["old_name"], fname]))
        for old, new in sorted((d.get("old_names") or {}).items()):
            lines.append("\t".join(["old", v, old, new]))
    dedup = lambda xs: list(dict.fromkeys(xs))
    return lines + dedup(renames) + dedup(field_renames)


def swift_string(text):
    """A Swift string literal (the data is plain text; escape what Swift would read)."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def swift_strings(xs):
    return "[" + ", ".join(swift_string(x) for x in xs) + "]"


KINDS = {"data_storage": "dataStorage", "data_rate": "dataRate", "parameterized_class": "parameterizedClass", "enum": "`enum`"}


def swift_shape(v):
    args = ["." + KINDS.get(v["kind"], v["kind"])]
    if "values" in v:
        args.append("values: " + swift_strings(v["values"]))
    for key in ("items", "keys", "valueShape"):
        if key in v:
            args.append(f"{key}: " + swift_shape(v[key]))
    for key in ("minUnit", "width"):
        if key in v:
            args.append(f"{key}: " + swift_string(v[key]))
    for key in ("scalarClassName", "inherits"):
        if v.get(key):
            args.append(f"{key}: true")
    return "ValueShape(" + ", ".join(args) + ")"


def swift_value(v):
    """A YAMLValue literal, read the way the schema's JSON decoder read it: a number
    with an integral value is an int (the decoder tried Int before Double)."""
    if v is None:
        return ".null"
    if isinstance(v, bool):
        return ".bool(true)" if v else ".bool(false)"
    if isinstance(v, int):
        return f".int({v})"
    if isinstance(v, float):
        return f".int({int(v)})" if v.is_integer() else f".double({v!r})"
    if isinstance(v, str):
        return f".string({swift_string(v)})"
    if isinstance(v, list):
        return ".list([" + ", ".join(swift_value(x) for x in v) + "])"
    if isinstance(v, dict):  # ordered() wrote mappings as {"ordered": [[k, v], ...]}
        assert list(v) == ["ordered"], v
        return ".map([" + ", ".join(f"({swift_string(k)}, {swift_value(x)})" for k, x in v["ordered"]) + "])"
    raise SystemExit(f"unexpected shipped value {v!r}")


def swift_setting(s, indent):
    args = [swift_string(s["name"]), swift_shape(s["shape"])]
    for key in ("nullable", "defaultIsNull", "deprecated"):
        if s.get(key):
            args.append(f"{key}: true")
    if s.get("replaces"):
        args.append("replaces: [" + ", ".join(
            f".init(old: {swift_string(r['old'])}, converter: {swift_string(r['converter'])})" for r in s["replaces"]) + "]")
    if "fields" in s:
        inner = indent + "    "
        args.append("fields: [\n" + "".join(f"{inner}{swift_setting(f, inner)},\n" for f in s["fields"]) + indent + "]")
    if "shipped" in s:
        args.append("shipped: .init(" + swift_value(s["shipped"]["value"]) + ")")
    if s.get("hot", "no") != "no":
        args.append(f"hot: .{s['hot']}")
    if s.get("nodetool"):
        args.append("nodetool: " + swift_strings(s["nodetool"]))
    return "SettingSpec(" + ", ".join(args) + ")"


def swift_rule(r):
    when = r["when"]
    cond = []
    if "key" in when:
        cond.append("key: " + swift_string(when["key"]))
    if "equals" in when:
        cond.append("equals: " + swift_string(when["equals"]))
    if "always" in when:
        cond.append("always: " + ("true" if when["always"] else "false"))
    args = ["when: .init(" + ", ".join(cond) + ")"]
    for key in ("require", "forbid"):
        if key in r:
            args.append(f"{key}: " + swift_strings(r[key]))
    for key in ("nonZero", "allowZero"):
        if key in r:
            args.append(f"{key}: " + ("true" if r[key] else "false"))
    return "ConditionalRule(" + ", ".join(args) + ")"


def swift_schema(data, ident):
    """One version's schema as a function of initialisers. The settings are split into
    functions of CHUNK entries, left unoptimised (@_optimize(none)): they run once, and
    -O over them took a minute of the release build (7 s now, for all four versions)."""
    CHUNK = 64
    settings = data["settings"]
    chunks = [settings[i:i + CHUNK] for i in range(0, len(settings), CHUNK)]
    old = data["oldNames"]
    lines = [
        "// Generated by tools/generate-settings-schema.py from the cassandra-config data set",
        f"// (Cassandra {data['release']}). Do not edit by hand: run the script.",
        "",
        "extension CassandraSchema {",
        f"    @_optimize(none) static func make_{ident}() -> CassandraSchema {{",
        "        CassandraSchema(",
        f"            version: {swift_string(data['version'])},",
        f"            release: {swift_string(data['release'])},",
        "            settings: " + " + ".join(f"settings_{ident}_{i}()" for i in range(len(chunks))) + ",",
        "            oldNames: " + ("[:]" if not old else "[\n" + "".join(
            f"                {swift_string(k)}: {swift_string(v)},\n" for k, v in old.items()) + "            ]") + ",",
        "            required: " + swift_strings(data["required"]) + ",",
        "            conditional: [\n" + "".join(f"                {swift_rule(r)},\n" for r in data["conditional"]) + "            ],",
        "            mutuallyExclusive: [" + ", ".join(swift_strings(p) for p in data["mutuallyExclusive"]) + "],",
        "            rackdcKeys: " + swift_strings(data["rackdcKeys"]) + ",",
        "            reloadSSL: " + ("true" if data["reloadSSL"] else "false") + ")",
        "    }",
    ]
    for i, chunk in enumerate(chunks):
        lines += ["", f"    @_optimize(none) private static func settings_{ident}_{i}() -> [SettingSpec] {{", "        ["]
        lines += [f"            {swift_setting(s, '            ')}," for s in chunk]
        lines += ["        ]", "    }"]
    lines += ["}", ""]
    return "\n".join(lines)


def swift_index(lines):
    """The cross-version index as Swift literals: one dictionary per version (built on
    first use of that version), the renames as arrays."""
    keys = {v: [] for v in VERSIONS}
    old = {v: [] for v in VERSIONS}
    renames, field_renames = [], []
    for line in lines:
        f = line.split("\t")
        if f[0] == "key":
            unit = f", minUnit: {swift_string(f[4])}, width: {swift_string(f[5])}" if len(f) > 4 else ""
            keys[f[1]].append(f"        {swift_string(f[2])}: Key(kind: {swift_string(f[3])}{unit}),")
        elif f[0] == "old":
            old[f[1]].append(f"        {swift_string(f[2])}: {swift_string(f[3])},")
        elif f[0] == "rename":
            renames.append(f"        Rename(old: {swift_string(f[1])}, new: {swift_string(f[2])}, converter: {swift_string(f[3])}),")
        elif f[0] == "field-rename":
            field_renames.append(f"        ({swift_string(f[1])}, {swift_string(f[2])}),")
    out = [
        "// Generated by tools/generate-settings-schema.py from the cassandra-config data set.",
        "// Do not edit by hand: run the script.",
        "",
        "extension SettingIndex {",
    ]
    for v in VERSIONS:
        ident = v.replace(".", "_")
        out += [f"    static let keys_{ident}: [String: Key] = " + ("[:]" if not keys[v] else "[\n" + "\n".join(keys[v]) + "\n    ]")]
        out += [f"    static let oldNames_{ident}: [String: String] = " + ("[:]" if not old[v] else "[\n" + "\n".join(old[v]) + "\n    ]")]
    out += ["    static let allRenames: [Rename] = [", *renames, "    ]"]
    out += ["    static let allFieldRenames: [(old: String, new: String)] = [", *field_renames, "    ]"]
    out += ["}", ""]
    return "\n".join(out)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "cassandra-config")
    os.makedirs(OUT_DIR, exist_ok=True)
    datasets = []
    for v in VERSIONS:
        with open(os.path.join(src, f"cassandra-{v}.json")) as f:
            datasets.append((v, json.load(f)))
    with open(os.path.join(OUT_DIR, "SettingIndex+Data.swift"), "w") as f:
        f.write(swift_index(index_lines(datasets)))
    for v, d in datasets:
        data = convert(d)
        ident = v.replace(".", "_")
        body = swift_schema(data, ident)
        with open(os.path.join(OUT_DIR, f"CassandraSchema+{ident}.swift"), "w") as f:
            f.write(body)
        print(f"{v}: {len(data['settings'])} settings, {len(body)} bytes of Swift")


if __name__ == "__main__":
    main()
