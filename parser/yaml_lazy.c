#define CB_PARSER_YAML_LAZY_H_TABLE
#include "parser/yaml_lazy.h"

/* The soname this cbuild was built against (the -dev package's .so link
 * points to it). */
CB_LAZYLIB_DEFINE(cb_yaml_lib, "libyaml-0.so.2", CB_YAML_FUNCS);
