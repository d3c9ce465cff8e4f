#!/usr/bin/env python3
"""Turns the cassandra-config data set (../shared/cassandra-config/cassandra-<v>.json)
into the project's own compact schema, one Swift file per Cassandra version that
holds the schema as a JSON string literal (read with FoundationEssentials' JSONDecoder,
so no resource bundle and no Foundation at run time).

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
    does not decode their whole schema:
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


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "cassandra-config")
    os.makedirs(OUT_DIR, exist_ok=True)
    datasets = []
    for v in VERSIONS:
        with open(os.path.join(src, f"cassandra-{v}.json")) as f:
            datasets.append((v, json.load(f)))
    index = "\n".join(index_lines(datasets))
    assert '"#' not in index
    with open(os.path.join(OUT_DIR, "SettingIndex+Data.swift"), "w") as f:
        f.write(
            "// Generated by tools/generate-settings-schema.py from the cassandra-config data set.\n"
            "// Do not edit by hand: run the script.\n\n"
            f"extension SettingIndex {{\n    static let data = #\"\"\"\n{index}\n\"\"\"#\n}}\n")
    for v in VERSIONS:
        with open(os.path.join(src, f"cassandra-{v}.json")) as f:
            data = convert(json.load(f))
        text = json.dumps(data, separators=(",", ":"), sort_keys=False, ensure_ascii=False)
        assert '"#' not in text
        ident = v.replace(".", "_")
        body = (
            "// Generated by tools/generate-settings-schema.py from the cassandra-config data set\n"
            f"// (Cassandra {data['release']}). Do not edit by hand: run the script.\n\n"
            f"extension CassandraSchema {{\n    static let json_{ident} = #\"{text}\"#\n}}\n"
        )
        with open(os.path.join(OUT_DIR, f"CassandraSchema+{ident}.swift"), "w") as f:
            f.write(body)
        print(f"{v}: {len(data['settings'])} settings, {len(text)} bytes")


if __name__ == "__main__":
    main()
