// OpenSSL's libcrypto, for SHA-256 (EVP digests). See Sources/SkiffRuntime/SHA256.swift.
#include <openssl/evp.h>
