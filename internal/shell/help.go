package shell

import (
	"fmt"
	"strings"

	"dream/internal/job"
)

// commandHelp describes each command in one line.
var commandHelp = []struct{ usage, help string }{
	{"PROMPT [switches]", "generate images from text"},
	{"!fix PATH [-U F [S]] [-W|-H PX] [-G S] [-ft T] [-cf W]", "post-process an image into NAME.fixed.png (.jpg/.webp for such sources, or --format); the original is not touched"},
	{"!fetch PATH", "show the command stored in an image made by dream, ready to edit"},
	{"!history", "list this session's commands"},
	{"!models", "list the models, installed or missing, and where each belongs"},
	{"!help [SWITCH]", "this help, or the help of one switch (!help -U)"},
	{"q, quit, exit", "leave (Ctrl-D too); Ctrl-C cancels the running job"},
}

// help runs !help: one screen for everything, or one switch or command.
func (s *Shell) help(topic string) {
	if topic == "" {
		s.overview()
		return
	}
	if sw, ok := job.LookupSwitch(topic); ok {
		fmt.Fprintf(s.Out, "%s %s\n  %s\n", strings.Join(sw.Names, ", "), sw.Args, sw.Help)
		switch {
		case sw.FixHelp != "":
			fmt.Fprintf(s.Out, "  %s\n", sw.FixHelp)
		case sw.OnFix:
			fmt.Fprintln(s.Out, "  applies to prompts and to !fix")
		}
		return
	}
	for _, c := range commandHelp {
		if strings.HasPrefix(c.usage, topic+" ") || c.usage == topic {
			fmt.Fprintf(s.Out, "%s\n  %s\n", c.usage, c.help)
			return
		}
	}
	s.fail(fmt.Errorf("no help for %q: type !help for the list of commands and switches", topic))
}

func (s *Shell) overview() {
	fmt.Fprintln(s.Out, "commands:")
	width := 0
	for _, c := range commandHelp {
		width = max(width, len(c.usage))
	}
	for _, c := range commandHelp {
		fmt.Fprintf(s.Out, "  %-*s  %s\n", width, c.usage, c.help)
	}
	fmt.Fprintln(s.Out, "switches:")
	for _, sw := range job.Switches {
		fmt.Fprintf(s.Out, "  %-20s %s\n", strings.TrimSpace(sw.Names[0]+" "+sw.Args), sw.Help)
	}
}
