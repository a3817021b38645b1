# embed.cmake — writes a C source holding a file's bytes, so that the kit serves a document
# (docs/api/openapi.json) without reading any file at run time.
#
#   cmake -DIN=<file> -DOUT=<file.c> -DNAME=<symbol> -P embed.cmake
#
# Defines `const unsigned char NAME[]` (the bytes and a final NUL) and `const size_t NAME_len`
# (the bytes without the NUL). Bytes, not a string literal: compilers cap literals' length.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REPLACE "0x0a," "0x0a,\n    " bytes "${bytes}")      # a line per line of the file
get_filename_component(base "${IN}" NAME)
file(WRITE "${OUT}.tmp"
"/*  Generated from ${base} by lib/kit/embed.cmake at build time: do not edit. */\n"
"#include <stddef.h>\n"
"const unsigned char ${NAME}[] = {\n    ${bytes}0x00\n};\n"
"const size_t ${NAME}_len = ${size};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
