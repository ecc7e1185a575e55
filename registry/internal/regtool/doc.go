// Command regtool runs cirun's embedded registry on its own and measures
// registries, for scripts/conformance.sh and scripts/bench-registry.sh. It is
// a development tool, not part of the cirun binary:
//
//	regtool serve -addr 127.0.0.1:5000 -root DIR [-quiet]
//	regtool gen -dir DIR [-size 200] [-layers 4]
//	regtool bench -layout DIR [-n 5] NAME=HOST [NAME=HOST...]
package main
