// Command render renders a Helm 3 chart the way `helm template` does, for tests on machines
// without a helm binary. It uses the same building blocks as Helm 3's engine:
// Go text/template, sprig v3's TxtFuncMap (minus env/expandenv, as Helm removes them), Helm's
// own extra functions (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup)
// re-implemented from helm/pkg/engine/funcs.go, sigs.k8s.io/yaml for values and toYaml (as
// Helm), and xeipuuv/gojsonschema for values.schema.json (as Helm's chartutil).
//
// What it does not do: chart dependencies (charts/), .helmignore, library charts, `lookup`
// against a cluster (it returns an empty map, as `helm template` does), Files.Glob/AsConfig,
// --set with list indexes or escaped commas, post-rendering, kind-based ordering of manifests.
//
// Build offline with Debian's Go sources:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o render .
//
// Usage:
//
//	render [--name R] [--namespace NS] [-f values.yaml]... [--set a.b=c]... [--set-string a=b]...
//	       [--is-upgrade] [--kube-version 1.30.0] [--api-versions g/v,...] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

// Values is the type Helm gives .Values (chartutil.Values is a map[string]interface{}).
type Values = map[string]interface{}

// ChartMeta mirrors the fields of helm's chart.Metadata that templates commonly use.
type ChartMeta struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	AppVersion  string            `json:"appVersion"`
	Description string            `json:"description"`
	APIVersion  string            `json:"apiVersion"`
	Type        string            `json:"type"`
	KubeVersion string            `json:"kubeVersion"`
	Home        string            `json:"home"`
	Keywords    []string          `json:"keywords"`
	Annotations map[string]string `json:"annotations"`
}

// Release mirrors helm's chartutil.ReleaseOptions as exposed to templates.
type Release struct {
	Name      string
	Namespace string
	Revision  int
	IsUpgrade bool
	IsInstall bool
	Service   string
}

// VersionSet mirrors chartutil.VersionSet.
type VersionSet []string

// Has reports whether the API version (or group/version/Kind) is known.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion mirrors chartutil.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string { return k.Version }

// GitVersion is the deprecated alias Helm keeps.
func (k KubeVersion) GitVersion() string { return k.Version }

// Capabilities mirrors chartutil.Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// Files mirrors the subset of helm's engine.files used by charts: Get and GetBytes.
type Files map[string][]byte

// Get returns a file's content as a string, "" if absent.
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content, nil if absent.
func (f Files) GetBytes(name string) []byte { return f[name] }

type multiFlag []string

func (m *multiFlag) add(v string) { *m = append(*m, v) }

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	var valueFiles, sets, setStrings multiFlag
	name, namespace, kubeVersion := "tricolor", "default", "1.30.0"
	isUpgrade := false
	apiVersions := VersionSet{"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1", "policy/v1"}
	chartDir := ""
	args := os.Args[1:]
	next := func(i *int, flag string) string {
		*i++
		if *i >= len(args) {
			fail("flag %s needs an argument", flag)
		}
		return args[*i]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--values":
			valueFiles.add(next(&i, a))
		case a == "--set":
			sets.add(next(&i, a))
		case a == "--set-string":
			setStrings.add(next(&i, a))
		case a == "--name":
			name = next(&i, a)
		case a == "--namespace" || a == "-n":
			namespace = next(&i, a)
		case a == "--kube-version":
			kubeVersion = strings.TrimPrefix(next(&i, a), "v")
		case a == "--api-versions" || a == "-a":
			for _, v := range strings.Split(next(&i, a), ",") {
				apiVersions = append(apiVersions, strings.TrimSpace(v))
			}
		case a == "--is-upgrade":
			isUpgrade = true
		case strings.HasPrefix(a, "-"):
			fail("unknown flag %s", a)
		default:
			chartDir = a
		}
	}
	if chartDir == "" {
		fail("usage: render [flags] CHART_DIR")
	}

	meta := ChartMeta{}
	raw, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		fail("%v", err)
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		fail("Chart.yaml: %v", err)
	}
	if meta.APIVersion != "v2" || meta.Name == "" || meta.Version == "" {
		fail("Chart.yaml: apiVersion v2, name and version are required")
	}

	defaults, err := readValues(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		fail("%v", err)
	}
	user := Values{}
	for _, f := range valueFiles {
		v, err := readValues(f)
		if err != nil {
			fail("%v", err)
		}
		user = mergeMaps(user, v)
	}
	for _, s := range sets {
		if err := parseSet(user, s, false); err != nil {
			fail("failed parsing --set data: %v", err)
		}
	}
	for _, s := range setStrings {
		if err := parseSet(user, s, true); err != nil {
			fail("failed parsing --set-string data: %v", err)
		}
	}
	values := coalesce(user, defaults)

	if schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json")); err == nil {
		if err := validateSchema(values, schema); err != nil {
			fail("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s",
				meta.Name, err.Error())
		}
	}

	files := Files{}
	templates := map[string]string{}
	_ = filepath.WalkDir(chartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		data, rerr := os.ReadFile(p)
		if rerr != nil {
			return rerr
		}
		if strings.HasPrefix(rel, "templates/") {
			templates[path.Join(meta.Name, rel)] = string(data)
			return nil
		}
		switch rel {
		case "Chart.yaml", "values.yaml", "values.schema.json":
			return nil
		}
		files[rel] = data
		return nil
	})

	major, minor := "1", "30"
	if parts := strings.SplitN(kubeVersion, ".", 3); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": Release{
			Name: name, Namespace: namespace, Revision: 1, IsUpgrade: isUpgrade, IsInstall: !isUpgrade,
			Service: "Helm",
		},
		"Chart": meta,
		"Capabilities": Capabilities{
			KubeVersion: KubeVersion{Version: "v" + kubeVersion, Major: major, Minor: minor},
			APIVersions: apiVersions,
		},
		"Files": files,
	}
	out, err := render(templates, top)
	if err != nil {
		fail("%s", cleanupExecError(err))
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, n := range names {
		if strings.HasSuffix(n, "NOTES.txt") {
			continue // `helm template` does not print the notes
		}
		body := out[n]
		if strings.TrimSpace(body) == "" {
			continue
		}
		// Helm splits each file's output into documents and labels each with its source.
		for _, doc := range splitDocs(body) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			fmt.Fprintf(&buf, "---\n# Source: %s\n%s\n", n, strings.TrimSpace(doc))
		}
	}
	os.Stdout.Write(buf.Bytes())
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

func splitDocs(s string) []string { return docSep.Split(s, -1) }

func readValues(file string) (Values, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	v := Values{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("failed to parse %s: %v", file, err)
	}
	if v == nil {
		v = Values{}
	}
	return v, nil
}

// mergeMaps merges b into a, recursively for maps, as Helm merges several -f files.
func mergeMaps(a, b Values) Values {
	out := make(Values, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if am, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(am, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// coalesce puts the chart defaults under the user's values (chartutil.coalesceValues):
// maps merge recursively; a user null deletes the default key.
func coalesce(user, defaults Values) Values {
	out := Values{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		um, uok := v.(map[string]interface{})
		dm, dok := out[k].(map[string]interface{})
		if uok && dok {
			out[k] = coalesce(um, dm)
		} else {
			out[k] = v
		}
	}
	return out
}

// parseSet handles --set a.b.c=v (several comma-separated); values typed like Helm's strvals
// (int64, bool, null, else string) unless asString.
func parseSet(dst Values, s string, asString bool) error {
	for _, kv := range splitSet(s) {
		eq := strings.Index(kv, "=")
		if eq <= 0 {
			return fmt.Errorf("key %q has no value", kv)
		}
		keys := strings.Split(kv[:eq], ".")
		raw := kv[eq+1:]
		var val interface{} = raw
		if !asString && strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			list := []interface{}{}
			for _, item := range strings.Split(raw[1:len(raw)-1], ",") {
				if item != "" {
					list = append(list, typed(item))
				}
			}
			val = list
		} else if !asString {
			val = typed(raw)
		}
		m := dst
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]interface{})
			if !ok {
				sub = Values{}
				m[k] = sub
			}
			m = sub
		}
		m[keys[len(keys)-1]] = val
	}
	return nil
}

// validateSchema is chartutil.ValidateAgainstSingleSchema.
func validateSchema(values Values, schema []byte) error {
	valuesData, err := yaml.Marshal(values)
	if err != nil {
		return err
	}
	valuesJSON, err := yaml.YAMLToJSON(valuesData)
	if err != nil {
		return err
	}
	if bytes.Equal(valuesJSON, []byte("null")) {
		valuesJSON = []byte("{}")
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(valuesJSON))
	if err != nil {
		return err
	}
	if !result.Valid() {
		var sb strings.Builder
		for _, desc := range result.Errors() {
			sb.WriteString(fmt.Sprintf("- %s\n", desc))
		}
		return errors.New(sb.String())
	}
	return nil
}

const recursionMaxNums = 1000

func render(templates map[string]string, top map[string]interface{}) (map[string]string, error) {
	t := template.New("gotpl")
	t.Option("missingkey=zero")
	includedNames := map[string]int{}
	funcs := template.FuncMap(sprig.TxtFuncMap())
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = func(v interface{}) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	funcs["fromYaml"] = func(str string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(str), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["fromYamlArray"] = func(str string) []interface{} {
		a := []interface{}{}
		if err := yaml.Unmarshal([]byte(str), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	funcs["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	funcs["fromJson"] = func(str string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(str), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["fromJsonArray"] = func(str string) []interface{} {
		a := []interface{}{}
		if err := json.Unmarshal([]byte(str), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	funcs["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		} else if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if v, ok := includedNames[name]; ok {
			if v > recursionMaxNums {
				return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
			}
			includedNames[name]++
		} else {
			includedNames[name] = 1
		}
		err := t.ExecuteTemplate(&buf, name, data)
		includedNames[name]--
		return buf.String(), err
	}
	funcs["tpl"] = func(tpl string, vals interface{}) (string, error) {
		c, err := t.Clone()
		if err != nil {
			return "", err
		}
		c, err = c.New("tpl").Parse(tpl)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", tpl, err)
		}
		var buf strings.Builder
		if err := c.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", tpl, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	t.Funcs(funcs)

	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(templates[n]); err != nil {
			return nil, fmt.Errorf("parse error in %q: %v", n, err)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		if strings.HasPrefix(path.Base(n), "_") {
			continue // partials are not rendered on their own
		}
		vals := map[string]interface{}{}
		for k, v := range top {
			vals[k] = v
		}
		vals["Template"] = map[string]interface{}{"Name": n, "BasePath": path.Join(path.Dir(n))}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, n, vals); err != nil {
			return nil, err
		}
		out[n] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

var execLocRe = regexp.MustCompile(`^template: (\S+?): executing `)
var execMsgRe = regexp.MustCompile(`error calling (?:required|fail): `)

// cleanupExecError shortens errors from required/fail like Helm's engine does:
// "execution error at (<file:line:col>): <message>".
func cleanupExecError(err error) string {
	msg := err.Error()
	loc := execLocRe.FindStringSubmatch(msg)
	idx := execMsgRe.FindAllStringIndex(msg, -1)
	if loc == nil || idx == nil {
		return msg
	}
	last := idx[len(idx)-1]
	return fmt.Sprintf("execution error at (%s): %s", loc[1], msg[last[1]:])
}

// typed converts a --set value like Helm's strvals: int64, bool, null, else string.
func typed(raw string) interface{} {
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil && !(len(raw) > 1 && raw[0] == '0') {
		return n
	}
	switch raw {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	return raw
}

// splitSet splits "a=1,b={x,y}" at the commas outside braces.
func splitSet(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
