#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of tests/fuzz/fuzz_policy and tests/fuzz/fuzz_nfqconf from the
documents the project ships and tests with: examples/*/{policy,authd,nfq}.json and policy/*.json.
Each seed is one selector byte (see the targets' comments) followed by the document.

    python3 tests/fuzz/make_conf_corpus.py .   (from the top of the tree)

Deterministic: the same files every run.
"""
import glob
import json
import os
import sys

SUPERVISOR, HEADER, PROVIDER = 1, 2, 4
RESOLVED, NO_SCHEMA = 8, 16


def roles_of(authd_json):
    with open(authd_json) as f:
        roles = json.load(f).get("roles", [])
    return sum({"supervisor": SUPERVISOR, "header": HEADER, "provider": PROVIDER}.get(r, 0)
               for r in roles)


KEY = "4f1c0a6f2b9d8e7c6b5a49382716f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e"


def resolved(text):
    """The document with derived keys in place of the secret files, as the engine gets it."""
    def walk(o):
        if isinstance(o, dict):
            if "passcode_file" in o:
                del o["passcode_file"]
                o["keys"] = {s: KEY for s in o.get("services", [])}
            if "group_key_file" in o:
                del o["group_key_file"]
                o["group_key"] = KEY
            if "signing_key_file" in o:
                del o["signing_key_file"]
                o["signing_key"] = KEY
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    doc = json.loads(text)
    walk(doc)
    return json.dumps(doc, indent=1).encode()


def write(d, name, sel, text):
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([sel]) + text)


def main(top):
    pol = os.path.join(top, "tests/fuzz/corpus/policy")
    nfq = os.path.join(top, "tests/fuzz/corpus/nfqconf")
    os.makedirs(pol, exist_ok=True)
    os.makedirs(nfq, exist_ok=True)
    for d in sorted(glob.glob(os.path.join(top, "examples/*/"))):
        host = os.path.basename(d.rstrip("/"))
        if os.path.exists(d + "authd.json"):
            text = open(d + "authd.json", "rb").read()
            write(pol, "authd-" + host, 0, text)
            roles = roles_of(d + "authd.json")
            if os.path.exists(d + "policy.json"):
                text = open(d + "policy.json", "rb").read()
                write(pol, "policy-" + host, roles, text)
                write(pol, "policy-" + host + "-noschema", roles | NO_SCHEMA, text)
                write(pol, "policy-" + host + "-resolved", roles | RESOLVED, resolved(text))
        if os.path.exists(d + "nfq.json"):
            text = open(d + "nfq.json", "rb").read()
            write(nfq, "nfq-" + host, 0, text)
            write(nfq, "nfq-" + host + "-noschema", 1, text)
    names = {"supervisor": SUPERVISOR, "header": HEADER, "provider": PROVIDER}
    for f in sorted(glob.glob(os.path.join(top, "policy/*.json"))):
        base = os.path.basename(f)[:-5]
        text = open(f, "rb").read()
        if base.startswith("authd-"):
            write(pol, base, 0, text)
        elif base in names:
            write(pol, "policy-" + base, names[base], text)
            write(pol, "policy-" + base + "-resolved", names[base] | RESOLVED, resolved(text))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
