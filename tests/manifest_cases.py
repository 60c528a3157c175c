"""Malformed pack.yaml cases shared by the manifest and the validate-command tests:
each ``(name, data, code, field, fragment)`` is one document a user could write and
the error the project must report for it."""

from __future__ import annotations

from pathlib import Path

BASE = "ref: demo\nlabel: Demo Pack\ndescription: A test pack\nversion: 1.0.0\n"
BOMB = (
    'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def without(field: str) -> str:
    return "".join(line + "\n" for line in BASE.splitlines() if not line.startswith(field + ":"))


def with_field(field: str, value: str) -> str:
    return without(field) + f"{field}: {value}\n"


# (case id, pack.yaml bytes, expected error code, field, message fragment)
MALFORMED: list[tuple[str, bytes, str, str, str]] = [
    # the document itself
    ("empty-file", b"", "not_a_mapping", "pack.yaml", "the document is empty"),
    ("only-comment", b"# nothing\n", "not_a_mapping", "pack.yaml", "the document is empty"),
    (
        "list-document",
        b"- ref: demo\n- version: 1.0.0\n",
        "not_a_mapping",
        "pack.yaml",
        "is a list",
    ),
    ("scalar-document", b"hello\n", "not_a_mapping", "pack.yaml", "is a string"),
    ("binary-garbage", bytes(range(256)) * 4, "invalid_yaml", "pack.yaml", "not valid UTF-8"),
    ("control-chars", b"ref: \x00\x01demo\n", "invalid_yaml", "pack.yaml", "invalid YAML"),
    ("unclosed-flow", b"ref: [demo\nlabel: x\n", "invalid_yaml", "pack.yaml", "line"),
    ("bad-indent", b"ref: demo\n  label: x\n version: 1\n", "invalid_yaml", "pack.yaml", "line 2"),
    (
        "two-documents",
        (BASE + "---\n" + BASE).encode(),
        "invalid_yaml",
        "pack.yaml",
        "invalid YAML",
    ),
    ("alias-bomb", (BASE + BOMB).encode(), "invalid_yaml", "pack.yaml", "expands to more than"),
    (
        "recursive-alias",
        (BASE + "meta: &m {self: *m}\n").encode(),
        "invalid_yaml",
        "pack.yaml",
        "recursive alias",
    ),
    (
        "deep-nesting",
        (BASE + "meta: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
        "invalid_yaml",
        "pack.yaml",
        "nested more than",
    ),
    (
        "python-tag",
        (BASE + "meta: !!python/object/apply:os.system ['touch /tmp/pwned']\n").encode(),
        "invalid_yaml",
        "pack.yaml",
        "python/object/apply",
    ),
    (
        "huge-int",
        with_field("version", "1" * 5000).encode(),
        "invalid_yaml",
        "pack.yaml",
        "invalid YAML value",
    ),
    (
        "bad-timestamp",
        (BASE + "meta: {released: !!timestamp 2024-13-45}\n").encode(),
        "invalid_yaml",
        "pack.yaml",
        "month must be in 1..12",
    ),
    (
        "bad-base64",
        (BASE + "meta: {blob: !!binary 1}\n").encode(),
        "invalid_yaml",
        "pack.yaml",
        "base64",
    ),
    # required fields
    (
        "missing-ref",
        without("ref").encode(),
        "missing_field",
        "ref",
        "required field 'ref' is missing",
    ),
    (
        "missing-label",
        without("label").encode(),
        "missing_field",
        "label",
        "required field 'label' is missing",
    ),
    (
        "missing-description",
        without("description").encode(),
        "missing_field",
        "description",
        "required field 'description' is missing",
    ),
    (
        "missing-version",
        without("version").encode(),
        "missing_field",
        "version",
        "required field 'version' is missing",
    ),
    (
        "null-version",
        with_field("version", "~").encode(),
        "missing_field",
        "version",
        "required field 'version' is missing",
    ),
    (
        "empty-ref",
        with_field("ref", '""').encode(),
        "missing_field",
        "ref",
        "required field 'ref' is empty",
    ),
    (
        "blank-label",
        with_field("label", '"   "').encode(),
        "missing_field",
        "label",
        "required field 'label' is empty",
    ),
    # ref
    (
        "ref-uppercase",
        with_field("ref", "MyPack").encode(),
        "invalid_ref",
        "ref",
        "ref 'MyPack' is invalid",
    ),
    ("ref-dot", with_field("ref", "my.pack").encode(), "invalid_ref", "ref", "no dots"),
    (
        "ref-digit-first",
        with_field("ref", "1pack").encode(),
        "invalid_ref",
        "ref",
        "starting with a letter",
    ),
    ("ref-space", with_field("ref", '"my pack"').encode(), "invalid_ref", "ref", "is invalid"),
    ("ref-unicode", with_field("ref", "pâck").encode(), "invalid_ref", "ref", "is invalid"),
    (
        "ref-int",
        with_field("ref", "123").encode(),
        "invalid_type",
        "ref",
        "'ref' must be a string, got an integer",
    ),
    (
        "ref-huge-hex",
        with_field("ref", "0x" + "f" * 5000).encode(),
        "invalid_type",
        "ref",
        "got an integer",
    ),
    ("ref-list", with_field("ref", "[a, b]").encode(), "invalid_type", "ref", "got a list"),
    (
        "label-mapping",
        with_field("label", "{a: 1}").encode(),
        "invalid_type",
        "label",
        "got a mapping",
    ),
    (
        "description-bool",
        with_field("description", "true").encode(),
        "invalid_type",
        "description",
        "got a boolean",
    ),
    # version
    (
        "version-float",
        with_field("version", "1.0").encode(),
        "invalid_version",
        "version",
        "read as a number",
    ),
    (
        "version-int",
        with_field("version", "2").encode(),
        "invalid_version",
        "version",
        "read as a number",
    ),
    (
        "version-inf",
        with_field("version", "1.0e+999").encode(),
        "invalid_version",
        "version",
        "read as a number",
    ),
    (
        "version-two-parts",
        with_field("version", '"1.0"').encode(),
        "invalid_version",
        "version",
        "'1.0' is not a semantic version",
    ),
    (
        "version-v-prefix",
        with_field("version", "v1.0.0").encode(),
        "invalid_version",
        "version",
        "'v1.0.0' is not a semantic version",
    ),
    (
        "version-four-parts",
        with_field("version", "1.0.0.0").encode(),
        "invalid_version",
        "version",
        "not a semantic version",
    ),
    (
        "version-leading-zero",
        with_field("version", "01.0.0").encode(),
        "invalid_version",
        "version",
        "not a semantic version",
    ),
    (
        "version-bad-prerelease",
        with_field("version", "1.0.0-rc..1").encode(),
        "invalid_version",
        "version",
        "not a semantic version",
    ),
    (
        "version-date",
        with_field("version", "2024-01-01").encode(),
        "invalid_type",
        "version",
        "got a date",
    ),
    (
        "version-huge-digits",
        with_field("version", '"' + "9" * 3000 + '.0.0x"').encode(),
        "invalid_version",
        "version",
        "...",
    ),
    # optional field types
    (
        "tags-string",
        (BASE + "tags: monitoring\n").encode(),
        "invalid_type",
        "tags",
        "write it as a list: [monitoring]",
    ),
    (
        "tags-item-int",
        (BASE + "tags: [ok, 5]\n").encode(),
        "invalid_type",
        "tags[1]",
        "'tags[1]' must be a string, got an integer 5",
    ),
    (
        "tags-item-nan",
        (BASE + "tags: [.nan]\n").encode(),
        "invalid_type",
        "tags[0]",
        "got a number",
    ),
    ("tags-mapping", (BASE + "tags: {a: 1}\n").encode(), "invalid_type", "tags", "got a mapping"),
    (
        "email-int",
        (BASE + "email: 42\n").encode(),
        "invalid_type",
        "email",
        "'email' must be a string, got an integer",
    ),
    ("author-list", (BASE + "author: [a, b]\n").encode(), "invalid_type", "author", "got a list"),
    ("license-bool", (BASE + "license: no\n").encode(), "invalid_type", "license", "got a boolean"),
    (
        "homepage-binary",
        (BASE + "homepage: !!binary aGVsbG8=\n").encode(),
        "invalid_type",
        "homepage",
        "got binary data",
    ),
    (
        "enabled-string",
        (BASE + 'enabled: "true"\n').encode(),
        "invalid_type",
        "enabled",
        "'enabled' must be true or false, got a string 'true'",
    ),
    (
        "system-int",
        (BASE + "system: 1\n").encode(),
        "invalid_type",
        "system",
        "must be true or false, got an integer 1",
    ),
    (
        "testing-bool",
        (BASE + "testing: on\n").encode(),
        "invalid_type",
        "testing",
        "'testing' must be a mapping, got a boolean",
    ),
    (
        "meta-list",
        (BASE + "meta: [a]\n").encode(),
        "invalid_type",
        "meta",
        "'meta' must be a mapping",
    ),
    (
        "config-string",
        (BASE + "config: x\n").encode(),
        "invalid_type",
        "config",
        "must be a mapping",
    ),
    (
        "conf-schema-list",
        (BASE + "conf_schema: [a]\n").encode(),
        "invalid_type",
        "conf_schema",
        "must be a mapping",
    ),
    (
        "python-list",
        (BASE + "python: [3]\n").encode(),
        "invalid_type",
        "python",
        "'python' must be a version string",
    ),
    (
        "python-word",
        (BASE + "python: three\n").encode(),
        "invalid_version_requirement",
        "python",
        "'three' is not a version constraint",
    ),
    (
        "nodejs-wildcard-minimum",
        (BASE + 'nodejs: ">=18.x"\n').encode(),
        "invalid_version_requirement",
        "nodejs",
        "'>=18.x' uses a wildcard, which only goes with == or !=",
    ),
    (
        "python-compatible-one-part",
        (BASE + 'python: "~=3"\n').encode(),
        "invalid_version_requirement",
        "python",
        "'~=3' needs at least two version parts after ~=",
    ),
    # legacy aliases
    (
        "alias-label-conflict",
        (BASE + "name: Other\n").encode(),
        "alias_conflict",
        "name",
        "'label' and its legacy alias 'name'",
    ),
    (
        "alias-tags-conflict",
        (BASE + "tags: [a]\nkeywords: [b]\n").encode(),
        "alias_conflict",
        "keywords",
        "'tags' and its legacy alias 'keywords'",
    ),
    (
        "alias-meta-conflict",
        (BASE + "meta: {a: 1}\nmetadata: {a: 2}\n").encode(),
        "alias_conflict",
        "metadata",
        "'meta' and its legacy alias 'metadata'",
    ),
    (
        "alias-conf-schema-conflict",
        (BASE + "conf_schema: {a: {type: string}}\nconfig_schema: {}\n").encode(),
        "alias_conflict",
        "config_schema",
        "'conf_schema' and its legacy alias 'config_schema'",
    ),
    (
        "alias-fills-bad-type",
        (without("label") + "name: [x]\n").encode(),
        "invalid_type",
        "label",
        "'label' must be a string, got a list",
    ),
    (
        "alias-keywords-bad",
        (BASE + "keywords: x\n").encode(),
        "invalid_type",
        "tags",
        "must be a list",
    ),
    # runtime_deps
    (
        "runtime-deps-string",
        (BASE + "runtime_deps: python3\n").encode(),
        "invalid_type",
        "runtime_deps",
        "write it as a list: [python3]",
    ),
    (
        "runtime-dep-empty",
        (BASE + 'runtime_deps: [""]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "runtime dependency '' is invalid",
    ),
    (
        "runtime-dep-no-name",
        (BASE + 'runtime_deps: [">=3.9"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "expected a runtime name",
    ),
    (
        "runtime-dep-no-version",
        (BASE + 'runtime_deps: ["python3>="]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "runtime dependency 'python3>=' is invalid: '>=' has no version after '>='",
    ),
    (
        "runtime-dep-bad-version",
        (BASE + 'runtime_deps: ["python3>=abc"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "'>=abc' has 'abc', which is not a version",
    ),
    (
        "runtime-dep-caret-no-version",
        (BASE + 'runtime_deps: ["nodejs^"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "'^' is not a version constraint",
    ),
    (
        "runtime-dep-space-word",
        (BASE + 'runtime_deps: ["python3 three"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "'three' is not a version constraint",
    ),
    (
        "runtime-dep-wildcard-minimum",
        (BASE + 'runtime_deps: [python3, "python3>=3.x"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[1]",
        "'>=3.x' uses a wildcard",
    ),
    (
        "runtime-dep-mapping",
        (BASE + "runtime_deps: [{python: 3}]\n").encode(),
        "invalid_type",
        "runtime_deps[0]",
        "got a mapping",
    ),
    (
        "runtime-dep-shell-chars",
        (BASE + 'runtime_deps: ["curl; rm -rf /"]\n').encode(),
        "invalid_runtime_dep",
        "runtime_deps[0]",
        "is invalid",
    ),
    # dependencies
    (
        "deps-string",
        (BASE + "dependencies: core\n").encode(),
        "invalid_type",
        "dependencies",
        "must be a list of pack requirements or a mapping",
    ),
    (
        "deps-bad-ref",
        (BASE + 'dependencies: ["Core@^1.0"]\n').encode(),
        "invalid_dependency",
        "dependencies[0]",
        "is not REF or REF@CONSTRAINT",
    ),
    (
        "deps-empty-constraint",
        (BASE + 'dependencies: ["core@"]\n').encode(),
        "invalid_dependency",
        "dependencies[0]",
        "empty constraint after '@'",
    ),
    (
        "deps-bad-constraint",
        (BASE + 'dependencies: ["core@banana"]\n').encode(),
        "invalid_dependency",
        "dependencies[0]",
        "invalid version constraint 'banana'",
    ),
    (
        "deps-bad-range",
        (BASE + 'dependencies: ["core@>=1 <"]\n').encode(),
        "invalid_dependency",
        "dependencies[0]",
        "core@>=1 <",
    ),
    (
        "deps-space-no-at",
        (BASE + 'dependencies: ["core >=1.0"]\n').encode(),
        "invalid_dependency",
        "dependencies[0]",
        "is not REF or REF@CONSTRAINT",
    ),
    (
        "deps-int-item",
        (BASE + "dependencies: [5]\n").encode(),
        "invalid_type",
        "dependencies[0]",
        "got an integer",
    ),
    (
        "deps-self",
        (BASE + 'dependencies: ["demo@^1"]\n').encode(),
        "self_dependency",
        "dependencies[0]",
        "pack 'demo' cannot depend on itself",
    ),
    (
        "deps-duplicate",
        (BASE + 'dependencies: ["core@^1", "core@<1.5"]\n').encode(),
        "duplicate_dependency",
        "dependencies[1]",
        "pack 'core' is required twice",
    ),
    (
        "deps-object-unknown-key",
        (BASE + "dependencies: {pyhton_version: '3.9'}\n").encode(),
        "unknown_field",
        "dependencies.pyhton_version",
        "unknown key 'pyhton_version' in 'dependencies'",
    ),
    (
        "deps-object-packs-string",
        (BASE + "dependencies: {packs: core}\n").encode(),
        "invalid_type",
        "dependencies.packs",
        "'dependencies.packs' must be a list",
    ),
    (
        "deps-object-bad-pack",
        (BASE + "dependencies: {packs: ['core@@1']}\n").encode(),
        "invalid_dependency",
        "dependencies.packs[0]",
        "core@@1",
    ),
    (
        "deps-attune-version-int",
        (BASE + "dependencies: {attune_version: 5}\n").encode(),
        "invalid_type",
        "dependencies.attune_version",
        "must be a version constraint string",
    ),
    (
        "deps-attune-version-bad",
        (BASE + "dependencies: {attune_version: banana}\n").encode(),
        "invalid_version_requirement",
        "dependencies.attune_version",
        "banana",
    ),
    (
        "deps-python-version-bad",
        (BASE + "dependencies: {python_version: '>=3.x'}\n").encode(),
        "invalid_version_requirement",
        "dependencies.python_version",
        "'dependencies.python_version': '>=3.x' uses a wildcard, which only goes with == or !=",
    ),
    (
        "deps-nodejs-version-list",
        (BASE + "dependencies: {nodejs_version: [18]}\n").encode(),
        "invalid_type",
        "dependencies.nodejs_version",
        "must be a version string",
    ),
]


def make_pack(
    root: Path, manifest: bytes | str | None, files: dict[str, bytes | str] | None = None
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        data = manifest.encode() if isinstance(manifest, str) else manifest
        (root / "pack.yaml").write_bytes(data)
    for rel, content in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root
