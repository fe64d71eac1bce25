package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"testing"
)

// parseTable runs the table of options alone (no validation) over a
// DefaultConfig, with env as the environment.
func parseTable(t *testing.T, args []string, env map[string]string) (Config, map[string]bool, error) {
	t.Helper()
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("refserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	set, err := parseOptions(fs, options(&cfg), args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return cfg, set, err
}

// samples returns two values of o unlike each other, the first unlike the
// default (for a boolean the second is the default), and one that is not
// of o's type ("" for a string, which takes anything).
func samples(t *testing.T, o option) (a, b, bad string) {
	t.Helper()
	switch o.value.(type) {
	case *stringValue:
		// The same for every row: two rows on one field make one Config.
		return "a", "b", ""
	case *boolValue:
		def, _ := strconv.ParseBool(o.value.String())
		return strconv.FormatBool(!def), strconv.FormatBool(def), "perhaps"
	case *durationValue:
		return "3s", "4s", "often"
	case *levelValue:
		return "debug", "error", "loud"
	case *limitValue:
		return "10/1m", "20/1s,5", "fast"
	}
	t.Fatalf("-%s: no samples of %T", o.flag, o.value)
	return "", "", ""
}

// TestOptionsTable checks every row of the table: its environment
// variable and its flag both set its Config field, which no other row
// sets; the flag beats the variable; a bad value names both; and no two
// rows share a flag or a variable.
func TestOptionsTable(t *testing.T) {
	def := DefaultConfig()
	rows := options(&def)
	flags, envs := map[string]bool{}, map[string]bool{}
	byEnv := map[Config]string{} // the Config each row's variable made
	for _, o := range rows {
		if flags[o.flag] || envs[o.env] || o.help == "" {
			t.Errorf("-%s / %s: a flag or variable twice, or no help", o.flag, o.env)
		}
		flags[o.flag], envs[o.env] = true, true
		t.Run(o.flag, func(t *testing.T) {
			a, b, bad := samples(t, o)
			fromEnv, set, err := parseTable(t, nil, map[string]string{o.env: a})
			if err != nil || !set[o.flag] || len(set) != 1 {
				t.Fatalf("%s=%s: %v, set %v", o.env, a, err, set)
			}
			if fromEnv == DefaultConfig() {
				t.Fatalf("%s=%s changed nothing", o.env, a)
			}
			if other, ok := byEnv[fromEnv]; ok {
				t.Errorf("-%s sets the field of -%s", o.flag, other)
			}
			byEnv[fromEnv] = o.flag
			fromFlag, set, err := parseTable(t, []string{"-" + o.flag + "=" + a}, nil)
			if err != nil || !set[o.flag] || fromFlag != fromEnv {
				t.Errorf("-%s=%s: %v, set %v; config %+v, want %+v", o.flag, a, err, set, fromFlag, fromEnv)
			}
			// A boolean flag takes its value after "=", others after a space too.
			argsB := []string{"-" + o.flag, b}
			if _, ok := o.value.(*boolValue); ok {
				argsB = []string{"-" + o.flag + "=" + b}
			}
			flagB, _, err := parseTable(t, argsB, nil)
			if err != nil {
				t.Fatal(err)
			}
			if both, _, err := parseTable(t, argsB, map[string]string{o.env: a}); err != nil || both != flagB || both == fromEnv {
				t.Errorf("-%s=%s over %s=%s: %v, config %+v; want the flag's %+v", o.flag, b, o.env, a, err, both, flagB)
			}
			if bad == "" {
				return
			}
			for _, c := range []struct {
				args []string
				env  map[string]string
			}{{nil, map[string]string{o.env: bad}}, {[]string{"-" + o.flag + "=" + bad}, nil}} {
				if _, _, err := parseTable(t, c.args, c.env); err == nil || !strings.Contains(err.Error(), "-"+o.flag+" / "+o.env) {
					t.Errorf("%v %v: err = %v; want one naming -%s / %s", c.args, c.env, err, o.flag, o.env)
				}
			}
		})
	}
}

// TestEmptyVariable checks that a variable set empty is unset, except for
// -audit-archive's, -files-url's and -nppes-url's, which an empty value
// sets (to turn the export, files, or practices' verification off).
func TestEmptyVariable(t *testing.T) {
	def := DefaultConfig()
	for _, o := range options(&def) {
		if o.emptySets != (o.flag == "audit-archive" || o.flag == "files-url" || o.flag == "nppes-url") {
			t.Errorf("-%s: emptySets %v", o.flag, o.emptySets)
		}
		cfg, set, err := parseTable(t, nil, map[string]string{o.env: ""})
		if err != nil || set[o.flag] != o.emptySets {
			t.Errorf("%s=\"\": %v, set %v; want set %v", o.env, err, set[o.flag], o.emptySets)
		}
		if !o.emptySets && cfg != DefaultConfig() {
			t.Errorf("%s=\"\" changed the config: %+v", o.env, cfg)
		}
	}
}

// TestHelpListsEveryRow checks that -h gives each row its own line: the
// flag, then its variable, then its help.
func TestHelpListsEveryRow(t *testing.T) {
	var usage bytes.Buffer
	m := NewMain()
	m.Stderr = &usage
	m.Getenv = env(nil)
	if err := m.ParseFlags([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	lines := map[string]string{}
	for line := range strings.Lines(usage.String()) {
		if f, ok := strings.CutPrefix(strings.TrimSpace(line), "-"); ok {
			name, _, _ := strings.Cut(f, " ")
			lines[name] = line
		}
	}
	def := DefaultConfig()
	rows := options(&def)
	for _, o := range rows {
		fields := strings.Fields(lines[o.flag])
		if len(fields) < 3 || fields[1] != o.env || !strings.Contains(lines[o.flag], " "+o.help) {
			t.Errorf("-h line of -%s = %q; want %s and %q", o.flag, lines[o.flag], o.env, o.help)
		}
	}
	if len(lines) != len(rows) {
		t.Errorf("-h lists %d flags, the table has %d:\n%s", len(lines), len(rows), usage.String())
	}
}
