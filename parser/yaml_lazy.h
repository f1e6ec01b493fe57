/*
 * parser/yaml_lazy.h - libyaml, loaded on first use (see common/lazylib.h).
 *
 * Include this instead of <yaml.h>: only `cbuild compose` reads YAML, and
 * no other command should pay for loading the library at start.
 */
#ifndef CB_PARSER_YAML_LAZY_H
#define CB_PARSER_YAML_LAZY_H

#include <yaml.h>

#include "common/lazylib.h"

/* Every libyaml function cbuild calls; add a name here before using it. */
#define CB_YAML_FUNCS(X) \
	X(yaml_document_delete) \
	X(yaml_document_get_node) \
	X(yaml_document_get_root_node) \
	X(yaml_parser_delete) \
	X(yaml_parser_initialize) \
	X(yaml_parser_load) \
	X(yaml_parser_set_input_string)

extern cb_lazylib_t cb_yaml_lib;
#define X(f) extern __typeof__(f) *cb_lazy_##f;
CB_YAML_FUNCS(X)
#undef X

#ifndef CB_PARSER_YAML_LAZY_H_TABLE /* the table's own .c needs the real names */
#define yaml_document_delete CB_LAZY(cb_yaml_lib, yaml_document_delete)
#define yaml_document_get_node CB_LAZY(cb_yaml_lib, yaml_document_get_node)
#define yaml_document_get_root_node CB_LAZY(cb_yaml_lib, yaml_document_get_root_node)
#define yaml_parser_delete CB_LAZY(cb_yaml_lib, yaml_parser_delete)
#define yaml_parser_initialize CB_LAZY(cb_yaml_lib, yaml_parser_initialize)
#define yaml_parser_load CB_LAZY(cb_yaml_lib, yaml_parser_load)
#define yaml_parser_set_input_string CB_LAZY(cb_yaml_lib, yaml_parser_set_input_string)
#endif

#endif
