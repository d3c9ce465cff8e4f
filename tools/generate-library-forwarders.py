#!/usr/bin/env python3
"""Writes Sources/CLibraryLoader/forwarders.c: one function for every libssl,
libcrypto and libsystemd function the agent calls, with the library's own
prototype, that loads the library on its first call (dlopen) and forwards to it.

Why: linked normally, the dynamic linker maps libssl, libcrypto and libsystemd
(with its libgcrypt, liblzma, libzstd, liblz4, libcap and libgpg-error) and
relocates them before main, at every start of every command: half the start-up
of `validate`, which uses none of them. Loaded on first use, `validate`, `render`
and `status` never load them, and an idle daemon without TLS or S3 never loads
libssl. Swift code is unchanged: it calls these functions by the libraries' names.

How: clang's AST of the headers COpenSSL and CSystemd import gives each
function's parameter and return types, so a prototype that differs from the
installed library's fails to compile rather than to run. A function the agent
starts to call that is not listed below fails to link ("undefined symbol");
add it to FUNCTIONS and run this again.

    python3 tools/generate-library-forwarders.py
"""
import json, os, re, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
output = os.path.join(root, "Sources", "CLibraryLoader", "forwarders.c")

# The symbols the agent's objects leave undefined for each library (nm -D
# --undefined-only on the linked binary, before this existed).
FUNCTIONS = {
    "AGENT_LIBSSL": """
        SSL_CTX_ctrl SSL_CTX_free SSL_CTX_get_cert_store SSL_CTX_new SSL_CTX_set_default_verify_paths
        SSL_CTX_set_verify SSL_connect SSL_ctrl SSL_free SSL_get0_param SSL_get_error SSL_get_rbio
        SSL_get_verify_result SSL_get_wbio SSL_new SSL_read SSL_set1_host SSL_set_bio
        SSL_set_connect_state SSL_shutdown SSL_write TLS_client_method""",
    "AGENT_LIBCRYPTO": """
        ASN1_OBJECT_free ASN1_TIME_to_tm BIO_ctrl BIO_ctrl_pending BIO_free BIO_new BIO_new_mem_buf
        BIO_read BIO_s_mem BIO_write CRYPTO_free ERR_clear_error ERR_error_string_n ERR_get_error
        EVP_Digest EVP_PKEY2PKCS8 EVP_PKEY_free EVP_sha1 EVP_sha256 HMAC OBJ_txt2obj OPENSSL_sk_free
        OPENSSL_sk_new_null OPENSSL_sk_pop_free OPENSSL_sk_push PEM_read_bio_PrivateKey
        PEM_read_bio_X509 PKCS12_SAFEBAG_free PKCS12_add1_attr_by_txt PKCS12_add_cert
        PKCS12_add_friendlyname_utf8 PKCS12_add_safe PKCS12_add_safes PKCS12_create PKCS12_free
        PKCS12_set_mac PKCS7_free PKCS8_PRIV_KEY_INFO_free RAND_bytes SHA256_Final SHA256_Init
        SHA256_Update X509_NAME_print_ex X509_STORE_add_cert X509_STORE_set_flags
        X509_VERIFY_PARAM_set1_ip_asc X509_check_issued X509_check_private_key X509_digest X509_free
        X509_get0_notAfter X509_get0_notBefore X509_get0_pubkey X509_get_issuer_name
        X509_get_subject_name X509_verify X509_verify_cert_error_string i2d_PKCS12
        i2d_PKCS8_PRIV_KEY_INFO i2d_X509""",
    "AGENT_LIBSYSTEMD": "sd_journal_sendv sd_listen_fds sd_notify sd_watchdog_enabled",
}

HEADERS = ["COpenSSL/shim.h", "CSystemd/shim.h"]


def declarations():
    """name -> (return type, [parameter types]) from clang's JSON AST."""
    with tempfile.NamedTemporaryFile("w", suffix=".c") as source:
        for header in HEADERS:
            source.write(f'#include "{os.path.join(root, "Sources", header)}"\n')
        source.flush()
        dump = subprocess.run(["clang", "-fsyntax-only", "-Xclang", "-ast-dump=json", source.name],
                              check=True, capture_output=True, text=True).stdout
    found = {}
    for node in json.loads(dump)["inner"]:
        if node.get("kind") != "FunctionDecl" or node.get("storageClass") == "static":
            continue
        signature = node["type"]["qualType"]
        # "RET (P0, P1)": the return type is everything before the parameter list's "(".
        depth, start = 0, None
        for index in range(len(signature) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(signature[index], 0)
            if depth == 0:
                start = index
                break
        parameters = [p["type"]["qualType"] for p in node.get("inner", []) if p.get("kind") == "ParmVarDecl"]
        found[node["name"]] = (signature[:start].strip(), parameters)
    return found


def parameter(type_, index):
    name = f"p{index}"
    if "(*)" in type_:  # a function pointer: the name goes inside "(*)"
        return type_.replace("(*)", f"(*{name})", 1)
    return f"{type_}{'' if type_.endswith('*') else ' '}{name}"


def forwarder(library, name, returns, parameters):
    declared = ", ".join(parameter(t, i) for i, t in enumerate(parameters)) or "void"
    arguments = ", ".join(f"p{i}" for i in range(len(parameters)))
    call = f"LOADED({library}, {name})({arguments});"
    return (f"{returns}{'' if returns.endswith('*') else ' '}{name}({declared}) {{\n"
            f"    static void *cache;\n"
            f"    {call if returns == 'void' else 'return ' + call}\n}}\n")


def main():
    found = declarations()
    parts = ["/* Generated by tools/generate-library-forwarders.py from the installed headers; do not edit.\n"
             "   Each function loads its library on first use and calls the library's own. */\n",
             '#include "library_loader.h"\n\n',
             "/* Hidden: the agent's own symbols, never the ones a library loaded later binds to. */\n"
             "#pragma GCC visibility push(hidden)\n",
             '#include "../COpenSSL/shim.h"\n',
             "/* Without it sd-journal.h makes sd_journal_sendv a macro (Swift, which cannot\n"
             "   import macros, calls the function). */\n"
             "#define SD_JOURNAL_SUPPRESS_LOCATION\n"
             '#include "../CSystemd/shim.h"\n\n',
             "/* SHA256_Init & co. are deprecated in OpenSSL 3.0 (see COpenSSL/shim.h for why we use them). */\n"
             "#pragma clang diagnostic ignored \"-Wdeprecated-declarations\"\n\n"
             "/* The library's function `name`, through the forwarder's `cache`. */\n"
             "#define LOADED(library, name) ((__typeof__(name) *)agent_library_function(library, #name, &cache))\n"]
    missing = []
    for library, names in FUNCTIONS.items():
        parts.append(f"\n/* {library} */\n")
        for name in sorted(names.split()):
            if name not in found:
                missing.append(name)
                continue
            returns, parameters = found[name]
            parts.append(forwarder(library, name, returns, parameters))
    if missing:
        sys.exit(f"not declared by the headers: {' '.join(missing)}")
    with open(output, "w") as file:
        file.write("".join(parts))
    print(f"wrote {os.path.relpath(output, root)}: {sum(len(n.split()) for n in FUNCTIONS.values())} functions")


if __name__ == "__main__":
    main()
