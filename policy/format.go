package policy

import (
	"bytes"
	"io/fs"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Format writes p as a policy file that stands alone (preset: none; every rule is written out), each
// rule under a comment saying where it was written. Parse reads it back to the same rules and
// waivers.
func Format(p *Policy, header string) ([]byte, error) {
	doc := mapping()
	doc.HeadComment = header
	add(doc, "version", scalar(strconv.Itoa(Version)))
	add(doc, "preset", scalar(None))
	if ids := identitiesNode(&p.Identities); len(ids.Content) > 0 {
		add(doc, "identities", ids)
	}
	rules := &yaml.Node{Kind: yaml.SequenceNode}
	for i := range p.Rules {
		rules.Content = append(rules.Content, ruleNode(&p.Rules[i]))
	}
	add(doc, "rules", rules)
	if len(p.Waivers) > 0 {
		ws := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range p.Waivers {
			ws.Content = append(ws.Content, waiverNode(&p.Waivers[i]))
		}
		add(doc, "waivers", ws)
	}
	if len(p.Exclude) > 0 {
		ex := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range p.Exclude {
			n := quoted(e.Glob)
			if e.Origin != "" {
				n.LineComment = "from " + e.Origin
			}
			ex.Content = append(ex.Content, n)
		}
		add(doc, "exclude", ex)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// quoted is a string YAML must not read as anything else: a mode, a glob, a name.
func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: yaml.DoubleQuotedStyle}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key), v)
}

func list(values []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range values {
		n.Content = append(n.Content, quoted(v))
	}
	return n
}

func identitiesNode(ids *Identities) *yaml.Node {
	n := mapping()
	for _, f := range []struct{ key, value string }{
		{"web_user", ids.WebUser}, {"web_group", ids.WebGroup}, {"php_user", ids.PHPUser},
	} {
		if f.value != "" {
			add(n, f.key, quoted(f.value))
		}
	}
	if ids.Owner != nil {
		add(n, "owner", list(ids.Owner))
	}
	if ids.Group != nil {
		add(n, "group", list(ids.Group))
	}
	return n
}

func ruleNode(r *Rule) *yaml.Node {
	n := mapping()
	if r.Origin != "" {
		n.HeadComment = "from " + r.Origin
	}
	if r.Paths != nil {
		add(n, "paths", list(r.Paths))
	}
	for _, m := range []struct {
		key  string
		mode *fs.FileMode
	}{{"file_mode", r.FileMax}, {"dir_mode", r.DirMax}} {
		if m.mode != nil {
			add(n, m.key, quoted(OctalMode(*m.mode)))
		}
	}
	for _, a := range []struct {
		key  string
		need *Need
	}{{"web", r.Web}, {"php", r.PHP}} {
		if a.need != nil {
			add(n, a.key, scalar(a.need.String()))
		}
	}
	if r.Owner != nil {
		add(n, "owner", list(r.Owner))
	}
	if r.Group != nil {
		add(n, "group", list(r.Group))
	}
	for _, b := range []struct {
		key   string
		value *bool
	}{{"sensitive", r.Sensitive}, {"writable", r.Writable}} {
		if b.value != nil {
			add(n, b.key, scalar(strconv.FormatBool(*b.value)))
		}
	}
	if r.Content != ContentUnread {
		add(n, "content", scalar(r.Content.String()))
	}
	if r.TopLevel {
		add(n, "top_level", scalar("true"))
	}
	if r.Severity != nil {
		sev := mapping()
		for _, info := range Catalog {
			if s, ok := r.Severity[info.ID]; ok {
				add(sev, string(info.ID), scalar(s.String()))
			}
		}
		add(n, "severity", sev)
	}
	return n
}

func waiverNode(w *Waiver) *yaml.Node {
	n := mapping()
	if w.Origin != "" {
		n.HeadComment = "from " + w.Origin
	}
	add(n, "rule", scalar(string(w.Rule)))
	add(n, "paths", list(w.Paths))
	add(n, "reason", quoted(w.Reason))
	add(n, "expires", scalar(w.Expires))
	return n
}
