/* help_text.h — the help text pdb prints for each command, per Python
 * version. These strings are pdb's interface (what `help CMD` shows), kept
 * verbatim; `exceptions` (3.13) is offered on every version, and `env` is
 * sleuth's own. */
#ifndef SLEUTH_HELP_TEXT_H
#define SLEUTH_HELP_TEXT_H

typedef struct { const char *names; const char *text; } HelpEntry;

#if SLEUTH_PY311
static const HelpEntry HELP_ENTRIES[] = {
    {"EOF",
     "EOF\n"
     "        Handles the receipt of EOF as a command."},
    {"alias",
     "alias [name [command [parameter parameter ...] ]]\n"
     "        Create an alias called 'name' that executes 'command'.  The\n"
     "        command must *not* be enclosed in quotes.  Replaceable\n"
     "        parameters can be indicated by %1, %2, and so on, while %* is\n"
     "        replaced by all the parameters.  If no command is given, the\n"
     "        current alias for name is shown. If no name is given, all\n"
     "        aliases are listed.\n"
     "\n"
     "        Aliases may be nested and can contain anything that can be\n"
     "        legally typed at the pdb prompt.  Note!  You *can* override\n"
     "        internal pdb commands with aliases!  Those internal commands\n"
     "        are then hidden until the alias is removed.  Aliasing is\n"
     "        recursively applied to the first word of the command line; all\n"
     "        other words in the line are left alone.\n"
     "\n"
     "        As an example, here are two useful aliases (especially when\n"
     "        placed in the .pdbrc file):\n"
     "\n"
     "        # Print instance variables (usage \"pi classInst\")\n"
     "        alias pi for k in %1.__dict__.keys(): print(\"%1.\",k,\"=\",%1.__dict__[k])\n"
     "        # Print instance variables in self\n"
     "        alias ps pi self"},
    {"args a",
     "a(rgs)\n"
     "        Print the argument list of the current function."},
    {"break b",
     "b(reak) [ ([filename:]lineno | function) [, condition] ]\n"
     "        Without argument, list all breaks.\n"
     "\n"
     "        With a line number argument, set a break at this line in the\n"
     "        current file.  With a function name, set a break at the first\n"
     "        executable line of that function.  If a second argument is\n"
     "        present, it is a string specifying an expression which must\n"
     "        evaluate to true before the breakpoint is honored.\n"
     "\n"
     "        The line number may be prefixed with a filename and a colon,\n"
     "        to specify a breakpoint in another file (probably one that\n"
     "        hasn't been loaded yet).  The file is searched for on\n"
     "        sys.path; the .py suffix may be omitted."},
    {"clear cl",
     "cl(ear) filename:lineno\n"
     "cl(ear) [bpnumber [bpnumber...]]\n"
     "        With a space separated list of breakpoint numbers, clear\n"
     "        those breakpoints.  Without argument, clear all breaks (but\n"
     "        first ask confirmation).  With a filename:lineno argument,\n"
     "        clear all breaks at that line in that file."},
    {"commands",
     "commands [bpnumber]\n"
     "        (com) ...\n"
     "        (com) end\n"
     "        (Pdb)\n"
     "\n"
     "        Specify a list of commands for breakpoint number bpnumber.\n"
     "        The commands themselves are entered on the following lines.\n"
     "        Type a line containing just 'end' to terminate the commands.\n"
     "        The commands are executed when the breakpoint is hit.\n"
     "\n"
     "        To remove all commands from a breakpoint, type commands and\n"
     "        follow it immediately with end; that is, give no commands.\n"
     "\n"
     "        With no bpnumber argument, commands refers to the last\n"
     "        breakpoint set.\n"
     "\n"
     "        You can use breakpoint commands to start your program up\n"
     "        again.  Simply use the continue command, or step, or any other\n"
     "        command that resumes execution.\n"
     "\n"
     "        Specifying any command resuming execution (currently continue,\n"
     "        step, next, return, jump, quit and their abbreviations)\n"
     "        terminates the command list (as if that command was\n"
     "        immediately followed by end).  This is because any time you\n"
     "        resume execution (even with a simple next or step), you may\n"
     "        encounter another breakpoint -- which could have its own\n"
     "        command list, leading to ambiguities about which list to\n"
     "        execute.\n"
     "\n"
     "        If you use the 'silent' command in the command list, the usual\n"
     "        message about stopping at a breakpoint is not printed.  This\n"
     "        may be desirable for breakpoints that are to print a specific\n"
     "        message and then continue.  If none of the other commands\n"
     "        print anything, you will see no sign that the breakpoint was\n"
     "        reached."},
    {"condition",
     "condition bpnumber [condition]\n"
     "        Set a new condition for the breakpoint, an expression which\n"
     "        must evaluate to true before the breakpoint is honored.  If\n"
     "        condition is absent, any existing condition is removed; i.e.,\n"
     "        the breakpoint is made unconditional."},
    {"continue c cont",
     "c(ont(inue))\n"
     "        Continue execution, only stop when a breakpoint is encountered."},
    {"debug",
     "debug code\n"
     "        Enter a recursive debugger that steps through the code\n"
     "        argument (which is an arbitrary expression or statement to be\n"
     "        executed in the current environment)."},
    {"disable",
     "disable bpnumber [bpnumber ...]\n"
     "        Disables the breakpoints given as a space separated list of\n"
     "        breakpoint numbers.  Disabling a breakpoint means it cannot\n"
     "        cause the program to stop execution, but unlike clearing a\n"
     "        breakpoint, it remains in the list of breakpoints and can be\n"
     "        (re-)enabled."},
    {"display",
     "display [expression]\n"
     "\n"
     "        Display the value of the expression if it changed, each time execution\n"
     "        stops in the current frame.\n"
     "\n"
     "        Without expression, list all display expressions for the current frame."},
    {"down d",
     "d(own) [count]\n"
     "        Move the current frame count (default one) levels down in the\n"
     "        stack trace (to a newer frame)."},
    {"enable",
     "enable bpnumber [bpnumber ...]\n"
     "        Enables the breakpoints given as a space separated list of\n"
     "        breakpoint numbers."},
    {"exceptions",
     "      Usage: exceptions [number]\n"
     "      \n"
     "      List or change current exception in an exception chain.\n"
     "      \n"
     "      Without arguments, list all the current exception in the exception\n"
     "      chain. Exceptions will be numbered, with the current exception indicated\n"
     "      with an arrow.\n"
     "      \n"
     "      If given an integer as argument, switch to the exception at that index."},
    {"exec",
     "(!) statement\n"
     "        Execute the (one-line) statement in the context of the current\n"
     "        stack frame.  The exclamation point can be omitted unless the\n"
     "        first word of the statement resembles a debugger command.  To\n"
     "        assign to a global variable you must always prefix the command\n"
     "        with a 'global' command, e.g.:\n"
     "        (Pdb) global list_options; list_options = ['-l']\n"
     "        (Pdb)"},
    {"help h",
     "h(elp)\n"
     "        Without argument, print the list of available commands.\n"
     "        With a command name as argument, print help about that command.\n"
     "        \"help pdb\" shows the full pdb documentation.\n"
     "        \"help exec\" gives help on the ! command."},
    {"ignore",
     "ignore bpnumber [count]\n"
     "        Set the ignore count for the given breakpoint number.  If\n"
     "        count is omitted, the ignore count is set to 0.  A breakpoint\n"
     "        becomes active when the ignore count is zero.  When non-zero,\n"
     "        the count is decremented each time the breakpoint is reached\n"
     "        and the breakpoint is not disabled and any associated\n"
     "        condition evaluates to true."},
    {"interact",
     "interact\n"
     "\n"
     "        Start an interactive interpreter whose global namespace\n"
     "        contains all the (global and local) names found in the current scope."},
    {"jump j",
     "j(ump) lineno\n"
     "        Set the next line that will be executed.  Only available in\n"
     "        the bottom-most frame.  This lets you jump back and execute\n"
     "        code again, or jump forward to skip code that you don't want\n"
     "        to run.\n"
     "\n"
     "        It should be noted that not all jumps are allowed -- for\n"
     "        instance it is not possible to jump into the middle of a\n"
     "        for loop or out of a finally clause."},
    {"list l",
     "l(ist) [first [,last] | .]\n"
     "\n"
     "        List source code for the current file.  Without arguments,\n"
     "        list 11 lines around the current line or continue the previous\n"
     "        listing.  With . as argument, list 11 lines around the current\n"
     "        line.  With one argument, list 11 lines starting at that line.\n"
     "        With two arguments, list the given range; if the second\n"
     "        argument is less than the first, it is a count.\n"
     "\n"
     "        The current line in the current frame is indicated by \"->\".\n"
     "        If an exception is being debugged, the line where the\n"
     "        exception was originally raised or propagated is indicated by\n"
     "        \">>\", if it differs from the current line."},
    {"longlist ll",
     "longlist | ll\n"
     "        List the whole source code for the current function or frame."},
    {"next n",
     "n(ext)\n"
     "        Continue execution until the next line in the current function\n"
     "        is reached or it returns."},
    {"p",
     "p expression\n"
     "        Print the value of the expression."},
    {"pp",
     "pp expression\n"
     "        Pretty-print the value of the expression."},
    {"quit exit q",
     "q(uit)\n"
     "exit\n"
     "        Quit from the debugger. The program being executed is aborted."},
    {"return r",
     "r(eturn)\n"
     "        Continue execution until the current function returns."},
    {"retval rv",
     "retval\n"
     "        Print the return value for the last return of a function."},
    {"run restart",
     "run [args...]\n"
     "        Restart the debugged python program. If a string is supplied\n"
     "        it is split with \"shlex\", and the result is used as the new\n"
     "        sys.argv.  History, breakpoints, actions and debugger options\n"
     "        are preserved.  \"restart\" is an alias for \"run\"."},
    {"source",
     "source expression\n"
     "        Try to get source code for the given object and display it."},
    {"step s",
     "s(tep)\n"
     "        Execute the current line, stop at the first possible occasion\n"
     "        (either in a function that is called or in the current\n"
     "        function)."},
    {"tbreak",
     "tbreak [ ([filename:]lineno | function) [, condition] ]\n"
     "        Same arguments as break, but sets a temporary breakpoint: it\n"
     "        is automatically deleted when first hit."},
    {"unalias",
     "unalias name\n"
     "        Delete the specified alias."},
    {"undisplay",
     "undisplay [expression]\n"
     "\n"
     "        Do not display the expression any more in the current frame.\n"
     "\n"
     "        Without expression, clear all display expressions for the current frame."},
    {"until unt",
     "unt(il) [lineno]\n"
     "        Without argument, continue execution until the line with a\n"
     "        number greater than the current one is reached.  With a line\n"
     "        number, continue execution until a line with a number greater\n"
     "        or equal to that is reached.  In both cases, also stop when\n"
     "        the current frame returns."},
    {"up u",
     "u(p) [count]\n"
     "        Move the current frame count (default one) levels up in the\n"
     "        stack trace (to an older frame)."},
    {"whatis",
     "whatis arg\n"
     "        Print the type of the argument."},
    {"where bt w",
     "w(here)\n"
     "        Print a stack trace, with the most recent frame at the bottom.\n"
     "        An arrow indicates the \"current frame\", which determines the\n"
     "        context of most commands.  'bt' is an alias for this command."},
    {"env",
     "env\n        Show the environment recorded in an evidence file (sleuth open)."},
    {NULL, NULL},
};
#elif SLEUTH_PY312
static const HelpEntry HELP_ENTRIES[] = {
    {"EOF",
     "      Usage: EOF\n"
     "      \n"
     "      Handles the receipt of EOF as a command."},
    {"alias",
     "      Usage: alias [name [command]]\n"
     "      \n"
     "      Create an alias called 'name' that executes 'command'.  The\n"
     "      command must *not* be enclosed in quotes.  Replaceable\n"
     "      parameters can be indicated by %1, %2, and so on, while %* is\n"
     "      replaced by all the parameters.  If no command is given, the\n"
     "      current alias for name is shown. If no name is given, all\n"
     "      aliases are listed.\n"
     "      \n"
     "      Aliases may be nested and can contain anything that can be\n"
     "      legally typed at the pdb prompt.  Note!  You *can* override\n"
     "      internal pdb commands with aliases!  Those internal commands\n"
     "      are then hidden until the alias is removed.  Aliasing is\n"
     "      recursively applied to the first word of the command line; all\n"
     "      other words in the line are left alone.\n"
     "      \n"
     "      As an example, here are two useful aliases (especially when\n"
     "      placed in the .pdbrc file):\n"
     "      \n"
     "      # Print instance variables (usage \"pi classInst\")\n"
     "      alias pi for k in %1.__dict__.keys(): print(\"%1.\",k,\"=\",%1.__dict__[k])\n"
     "      # Print instance variables in self\n"
     "      alias ps pi self"},
    {"args a",
     "      Usage: a(rgs)\n"
     "      \n"
     "      Print the argument list of the current function."},
    {"break b",
     "      Usage: b(reak) [ ([filename:]lineno | function) [, condition] ]\n"
     "      \n"
     "      Without argument, list all breaks.\n"
     "      \n"
     "      With a line number argument, set a break at this line in the\n"
     "      current file.  With a function name, set a break at the first\n"
     "      executable line of that function.  If a second argument is\n"
     "      present, it is a string specifying an expression which must\n"
     "      evaluate to true before the breakpoint is honored.\n"
     "      \n"
     "      The line number may be prefixed with a filename and a colon,\n"
     "      to specify a breakpoint in another file (probably one that\n"
     "      hasn't been loaded yet).  The file is searched for on\n"
     "      sys.path; the .py suffix may be omitted."},
    {"clear cl",
     "      Usage: cl(ear) [filename:lineno | bpnumber ...]\n"
     "      \n"
     "      With a space separated list of breakpoint numbers, clear\n"
     "      those breakpoints.  Without argument, clear all breaks (but\n"
     "      first ask confirmation).  With a filename:lineno argument,\n"
     "      clear all breaks at that line in that file."},
    {"commands",
     "      Usage: (Pdb) commands [bpnumber]\n"
     "             (com) ...\n"
     "             (com) end\n"
     "             (Pdb)\n"
     "      \n"
     "      Specify a list of commands for breakpoint number bpnumber.\n"
     "      The commands themselves are entered on the following lines.\n"
     "      Type a line containing just 'end' to terminate the commands.\n"
     "      The commands are executed when the breakpoint is hit.\n"
     "      \n"
     "      To remove all commands from a breakpoint, type commands and\n"
     "      follow it immediately with end; that is, give no commands.\n"
     "      \n"
     "      With no bpnumber argument, commands refers to the last\n"
     "      breakpoint set.\n"
     "      \n"
     "      You can use breakpoint commands to start your program up\n"
     "      again.  Simply use the continue command, or step, or any other\n"
     "      command that resumes execution.\n"
     "      \n"
     "      Specifying any command resuming execution (currently continue,\n"
     "      step, next, return, jump, quit and their abbreviations)\n"
     "      terminates the command list (as if that command was\n"
     "      immediately followed by end).  This is because any time you\n"
     "      resume execution (even with a simple next or step), you may\n"
     "      encounter another breakpoint -- which could have its own\n"
     "      command list, leading to ambiguities about which list to\n"
     "      execute.\n"
     "      \n"
     "      If you use the 'silent' command in the command list, the usual\n"
     "      message about stopping at a breakpoint is not printed.  This\n"
     "      may be desirable for breakpoints that are to print a specific\n"
     "      message and then continue.  If none of the other commands\n"
     "      print anything, you will see no sign that the breakpoint was\n"
     "      reached."},
    {"condition",
     "      Usage: condition bpnumber [condition]\n"
     "      \n"
     "      Set a new condition for the breakpoint, an expression which\n"
     "      must evaluate to true before the breakpoint is honored.  If\n"
     "      condition is absent, any existing condition is removed; i.e.,\n"
     "      the breakpoint is made unconditional."},
    {"continue c cont",
     "      Usage: c(ont(inue))\n"
     "      \n"
     "      Continue execution, only stop when a breakpoint is encountered."},
    {"debug",
     "      Usage: debug code\n"
     "      \n"
     "      Enter a recursive debugger that steps through the code\n"
     "      argument (which is an arbitrary expression or statement to be\n"
     "      executed in the current environment)."},
    {"disable",
     "      Usage: disable bpnumber [bpnumber ...]\n"
     "      \n"
     "      Disables the breakpoints given as a space separated list of\n"
     "      breakpoint numbers.  Disabling a breakpoint means it cannot\n"
     "      cause the program to stop execution, but unlike clearing a\n"
     "      breakpoint, it remains in the list of breakpoints and can be\n"
     "      (re-)enabled."},
    {"display",
     "      Usage: display [expression]\n"
     "      \n"
     "      Display the value of the expression if it changed, each time execution\n"
     "      stops in the current frame.\n"
     "      \n"
     "      Without expression, list all display expressions for the current frame."},
    {"down d",
     "      Usage: d(own) [count]\n"
     "      \n"
     "      Move the current frame count (default one) levels down in the\n"
     "      stack trace (to a newer frame)."},
    {"enable",
     "      Usage: enable bpnumber [bpnumber ...]\n"
     "      \n"
     "      Enables the breakpoints given as a space separated list of\n"
     "      breakpoint numbers."},
    {"exceptions",
     "      Usage: exceptions [number]\n"
     "      \n"
     "      List or change current exception in an exception chain.\n"
     "      \n"
     "      Without arguments, list all the current exception in the exception\n"
     "      chain. Exceptions will be numbered, with the current exception indicated\n"
     "      with an arrow.\n"
     "      \n"
     "      If given an integer as argument, switch to the exception at that index."},
    {"exec",
     "(!) statement\n"
     "\n"
     "        Execute the (one-line) statement in the context of the current\n"
     "        stack frame.  The exclamation point can be omitted unless the\n"
     "        first word of the statement resembles a debugger command, e.g.:\n"
     "        (Pdb) ! n=42\n"
     "        (Pdb)\n"
     "\n"
     "        To assign to a global variable you must always prefix the command with\n"
     "        a 'global' command, e.g.:\n"
     "        (Pdb) global list_options; list_options = ['-l']\n"
     "        (Pdb)"},
    {"help h",
     "      Usage: h(elp)\n"
     "      \n"
     "      Without argument, print the list of available commands.\n"
     "      With a command name as argument, print help about that command.\n"
     "      \"help pdb\" shows the full pdb documentation.\n"
     "      \"help exec\" gives help on the ! command."},
    {"ignore",
     "      Usage: ignore bpnumber [count]\n"
     "      \n"
     "      Set the ignore count for the given breakpoint number.  If\n"
     "      count is omitted, the ignore count is set to 0.  A breakpoint\n"
     "      becomes active when the ignore count is zero.  When non-zero,\n"
     "      the count is decremented each time the breakpoint is reached\n"
     "      and the breakpoint is not disabled and any associated\n"
     "      condition evaluates to true."},
    {"interact",
     "      Usage: interact\n"
     "      \n"
     "      Start an interactive interpreter whose global namespace\n"
     "      contains all the (global and local) names found in the current scope."},
    {"jump j",
     "      Usage: j(ump) lineno\n"
     "      \n"
     "      Set the next line that will be executed.  Only available in\n"
     "      the bottom-most frame.  This lets you jump back and execute\n"
     "      code again, or jump forward to skip code that you don't want\n"
     "      to run.\n"
     "      \n"
     "      It should be noted that not all jumps are allowed -- for\n"
     "      instance it is not possible to jump into the middle of a\n"
     "      for loop or out of a finally clause."},
    {"list l",
     "      Usage: l(ist) [first[, last] | .]\n"
     "      \n"
     "      List source code for the current file.  Without arguments,\n"
     "      list 11 lines around the current line or continue the previous\n"
     "      listing.  With . as argument, list 11 lines around the current\n"
     "      line.  With one argument, list 11 lines starting at that line.\n"
     "      With two arguments, list the given range; if the second\n"
     "      argument is less than the first, it is a count.\n"
     "      \n"
     "      The current line in the current frame is indicated by \"->\".\n"
     "      If an exception is being debugged, the line where the\n"
     "      exception was originally raised or propagated is indicated by\n"
     "      \">>\", if it differs from the current line."},
    {"longlist ll",
     "      Usage: ll | longlist\n"
     "      \n"
     "      List the whole source code for the current function or frame."},
    {"next n",
     "      Usage: n(ext)\n"
     "      \n"
     "      Continue execution until the next line in the current function\n"
     "      is reached or it returns."},
    {"p",
     "      Usage: p expression\n"
     "      \n"
     "      Print the value of the expression."},
    {"pp",
     "      Usage: pp expression\n"
     "      \n"
     "      Pretty-print the value of the expression."},
    {"quit exit q",
     "      Usage: q(uit) | exit\n"
     "      \n"
     "      Quit from the debugger. The program being executed is aborted."},
    {"return r",
     "      Usage: r(eturn)\n"
     "      \n"
     "      Continue execution until the current function returns."},
    {"retval rv",
     "      Usage: retval\n"
     "      \n"
     "      Print the return value for the last return of a function."},
    {"run restart",
     "      Usage: run [args...]\n"
     "      \n"
     "      Restart the debugged python program. If a string is supplied\n"
     "      it is split with \"shlex\", and the result is used as the new\n"
     "      sys.argv.  History, breakpoints, actions and debugger options\n"
     "      are preserved.  \"restart\" is an alias for \"run\"."},
    {"source",
     "      Usage: source expression\n"
     "      \n"
     "      Try to get source code for the given object and display it."},
    {"step s",
     "      Usage: s(tep)\n"
     "      \n"
     "      Execute the current line, stop at the first possible occasion\n"
     "      (either in a function that is called or in the current\n"
     "      function)."},
    {"tbreak",
     "      Usage: tbreak [ ([filename:]lineno | function) [, condition] ]\n"
     "      \n"
     "      Same arguments as break, but sets a temporary breakpoint: it\n"
     "      is automatically deleted when first hit."},
    {"unalias",
     "      Usage: unalias name\n"
     "      \n"
     "      Delete the specified alias."},
    {"undisplay",
     "      Usage: undisplay [expression]\n"
     "      \n"
     "      Do not display the expression any more in the current frame.\n"
     "      \n"
     "      Without expression, clear all display expressions for the current frame."},
    {"until unt",
     "      Usage: unt(il) [lineno]\n"
     "      \n"
     "      Without argument, continue execution until the line with a\n"
     "      number greater than the current one is reached.  With a line\n"
     "      number, continue execution until a line with a number greater\n"
     "      or equal to that is reached.  In both cases, also stop when\n"
     "      the current frame returns."},
    {"up u",
     "      Usage: u(p) [count]\n"
     "      \n"
     "      Move the current frame count (default one) levels up in the\n"
     "      stack trace (to an older frame)."},
    {"whatis",
     "      Usage: whatis expression\n"
     "      \n"
     "      Print the type of the argument."},
    {"where bt w",
     "      Usage: w(here)\n"
     "      \n"
     "      Print a stack trace, with the most recent frame at the bottom.\n"
     "      An arrow indicates the \"current frame\", which determines the\n"
     "      context of most commands.  'bt' is an alias for this command."},
    {"env",
     "env\n        Show the environment recorded in an evidence file (sleuth open)."},
    {NULL, NULL},
};
#elif SLEUTH_PY313
static const HelpEntry HELP_ENTRIES[] = {
    {"EOF",
     "      Usage: EOF\n"
     "      \n"
     "      Handles the receipt of EOF as a command."},
    {"alias",
     "      Usage: alias [name [command]]\n"
     "      \n"
     "      Create an alias called 'name' that executes 'command'.  The\n"
     "      command must *not* be enclosed in quotes.  Replaceable\n"
     "      parameters can be indicated by %1, %2, and so on, while %* is\n"
     "      replaced by all the parameters.  If no command is given, the\n"
     "      current alias for name is shown. If no name is given, all\n"
     "      aliases are listed.\n"
     "      \n"
     "      Aliases may be nested and can contain anything that can be\n"
     "      legally typed at the pdb prompt.  Note!  You *can* override\n"
     "      internal pdb commands with aliases!  Those internal commands\n"
     "      are then hidden until the alias is removed.  Aliasing is\n"
     "      recursively applied to the first word of the command line; all\n"
     "      other words in the line are left alone.\n"
     "      \n"
     "      As an example, here are two useful aliases (especially when\n"
     "      placed in the .pdbrc file):\n"
     "      \n"
     "      # Print instance variables (usage \"pi classInst\")\n"
     "      alias pi for k in %1.__dict__.keys(): print(\"%1.\",k,\"=\",%1.__dict__[k])\n"
     "      # Print instance variables in self\n"
     "      alias ps pi self"},
    {"args a",
     "      Usage: a(rgs)\n"
     "      \n"
     "      Print the argument list of the current function."},
    {"break b",
     "      Usage: b(reak) [ ([filename:]lineno | function) [, condition] ]\n"
     "      \n"
     "      Without argument, list all breaks.\n"
     "      \n"
     "      With a line number argument, set a break at this line in the\n"
     "      current file.  With a function name, set a break at the first\n"
     "      executable line of that function.  If a second argument is\n"
     "      present, it is a string specifying an expression which must\n"
     "      evaluate to true before the breakpoint is honored.\n"
     "      \n"
     "      The line number may be prefixed with a filename and a colon,\n"
     "      to specify a breakpoint in another file (probably one that\n"
     "      hasn't been loaded yet).  The file is searched for on\n"
     "      sys.path; the .py suffix may be omitted."},
    {"clear cl",
     "      Usage: cl(ear) [filename:lineno | bpnumber ...]\n"
     "      \n"
     "      With a space separated list of breakpoint numbers, clear\n"
     "      those breakpoints.  Without argument, clear all breaks (but\n"
     "      first ask confirmation).  With a filename:lineno argument,\n"
     "      clear all breaks at that line in that file."},
    {"commands",
     "      Usage: (Pdb) commands [bpnumber]\n"
     "             (com) ...\n"
     "             (com) end\n"
     "             (Pdb)\n"
     "      \n"
     "      Specify a list of commands for breakpoint number bpnumber.\n"
     "      The commands themselves are entered on the following lines.\n"
     "      Type a line containing just 'end' to terminate the commands.\n"
     "      The commands are executed when the breakpoint is hit.\n"
     "      \n"
     "      To remove all commands from a breakpoint, type commands and\n"
     "      follow it immediately with end; that is, give no commands.\n"
     "      \n"
     "      With no bpnumber argument, commands refers to the last\n"
     "      breakpoint set.\n"
     "      \n"
     "      You can use breakpoint commands to start your program up\n"
     "      again.  Simply use the continue command, or step, or any other\n"
     "      command that resumes execution.\n"
     "      \n"
     "      Specifying any command resuming execution (currently continue,\n"
     "      step, next, return, jump, quit and their abbreviations)\n"
     "      terminates the command list (as if that command was\n"
     "      immediately followed by end).  This is because any time you\n"
     "      resume execution (even with a simple next or step), you may\n"
     "      encounter another breakpoint -- which could have its own\n"
     "      command list, leading to ambiguities about which list to\n"
     "      execute.\n"
     "      \n"
     "      If you use the 'silent' command in the command list, the usual\n"
     "      message about stopping at a breakpoint is not printed.  This\n"
     "      may be desirable for breakpoints that are to print a specific\n"
     "      message and then continue.  If none of the other commands\n"
     "      print anything, you will see no sign that the breakpoint was\n"
     "      reached."},
    {"condition",
     "      Usage: condition bpnumber [condition]\n"
     "      \n"
     "      Set a new condition for the breakpoint, an expression which\n"
     "      must evaluate to true before the breakpoint is honored.  If\n"
     "      condition is absent, any existing condition is removed; i.e.,\n"
     "      the breakpoint is made unconditional."},
    {"continue c cont",
     "      Usage: c(ont(inue))\n"
     "      \n"
     "      Continue execution, only stop when a breakpoint is encountered."},
    {"debug",
     "      Usage: debug code\n"
     "      \n"
     "      Enter a recursive debugger that steps through the code\n"
     "      argument (which is an arbitrary expression or statement to be\n"
     "      executed in the current environment)."},
    {"disable",
     "      Usage: disable bpnumber [bpnumber ...]\n"
     "      \n"
     "      Disables the breakpoints given as a space separated list of\n"
     "      breakpoint numbers.  Disabling a breakpoint means it cannot\n"
     "      cause the program to stop execution, but unlike clearing a\n"
     "      breakpoint, it remains in the list of breakpoints and can be\n"
     "      (re-)enabled."},
    {"display",
     "      Usage: display [expression]\n"
     "      \n"
     "      Display the value of the expression if it changed, each time execution\n"
     "      stops in the current frame.\n"
     "      \n"
     "      Without expression, list all display expressions for the current frame."},
    {"down d",
     "      Usage: d(own) [count]\n"
     "      \n"
     "      Move the current frame count (default one) levels down in the\n"
     "      stack trace (to a newer frame)."},
    {"enable",
     "      Usage: enable bpnumber [bpnumber ...]\n"
     "      \n"
     "      Enables the breakpoints given as a space separated list of\n"
     "      breakpoint numbers."},
    {"exceptions",
     "      Usage: exceptions [number]\n"
     "      \n"
     "      List or change current exception in an exception chain.\n"
     "      \n"
     "      Without arguments, list all the current exception in the exception\n"
     "      chain. Exceptions will be numbered, with the current exception indicated\n"
     "      with an arrow.\n"
     "      \n"
     "      If given an integer as argument, switch to the exception at that index."},
    {"exec",
     "(!) statement\n"
     "\n"
     "Execute the (one-line) statement in the context of the current\n"
     "stack frame.  The exclamation point can be omitted unless the\n"
     "first word of the statement resembles a debugger command, e.g.:\n"
     "(Pdb) ! n=42\n"
     "(Pdb)\n"
     "\n"
     "To assign to a global variable you must always prefix the command with\n"
     "a 'global' command, e.g.:\n"
     "(Pdb) global list_options; list_options = ['-l']\n"
     "(Pdb)"},
    {"help h",
     "      Usage: h(elp)\n"
     "      \n"
     "      Without argument, print the list of available commands.\n"
     "      With a command name as argument, print help about that command.\n"
     "      \"help pdb\" shows the full pdb documentation.\n"
     "      \"help exec\" gives help on the ! command."},
    {"ignore",
     "      Usage: ignore bpnumber [count]\n"
     "      \n"
     "      Set the ignore count for the given breakpoint number.  If\n"
     "      count is omitted, the ignore count is set to 0.  A breakpoint\n"
     "      becomes active when the ignore count is zero.  When non-zero,\n"
     "      the count is decremented each time the breakpoint is reached\n"
     "      and the breakpoint is not disabled and any associated\n"
     "      condition evaluates to true."},
    {"interact",
     "      Usage: interact\n"
     "      \n"
     "      Start an interactive interpreter whose global namespace\n"
     "      contains all the (global and local) names found in the current scope."},
    {"jump j",
     "      Usage: j(ump) lineno\n"
     "      \n"
     "      Set the next line that will be executed.  Only available in\n"
     "      the bottom-most frame.  This lets you jump back and execute\n"
     "      code again, or jump forward to skip code that you don't want\n"
     "      to run.\n"
     "      \n"
     "      It should be noted that not all jumps are allowed -- for\n"
     "      instance it is not possible to jump into the middle of a\n"
     "      for loop or out of a finally clause."},
    {"list l",
     "      Usage: l(ist) [first[, last] | .]\n"
     "      \n"
     "      List source code for the current file.  Without arguments,\n"
     "      list 11 lines around the current line or continue the previous\n"
     "      listing.  With . as argument, list 11 lines around the current\n"
     "      line.  With one argument, list 11 lines starting at that line.\n"
     "      With two arguments, list the given range; if the second\n"
     "      argument is less than the first, it is a count.\n"
     "      \n"
     "      The current line in the current frame is indicated by \"->\".\n"
     "      If an exception is being debugged, the line where the\n"
     "      exception was originally raised or propagated is indicated by\n"
     "      \">>\", if it differs from the current line."},
    {"longlist ll",
     "      Usage: ll | longlist\n"
     "      \n"
     "      List the whole source code for the current function or frame."},
    {"next n",
     "      Usage: n(ext)\n"
     "      \n"
     "      Continue execution until the next line in the current function\n"
     "      is reached or it returns."},
    {"p",
     "      Usage: p expression\n"
     "      \n"
     "      Print the value of the expression."},
    {"pp",
     "      Usage: pp expression\n"
     "      \n"
     "      Pretty-print the value of the expression."},
    {"quit exit q",
     "      Usage: q(uit) | exit\n"
     "      \n"
     "      Quit from the debugger. The program being executed is aborted."},
    {"return r",
     "      Usage: r(eturn)\n"
     "      \n"
     "      Continue execution until the current function returns."},
    {"retval rv",
     "      Usage: retval\n"
     "      \n"
     "      Print the return value for the last return of a function."},
    {"run restart",
     "      Usage: run [args...]\n"
     "      \n"
     "      Restart the debugged python program. If a string is supplied\n"
     "      it is split with \"shlex\", and the result is used as the new\n"
     "      sys.argv.  History, breakpoints, actions and debugger options\n"
     "      are preserved.  \"restart\" is an alias for \"run\"."},
    {"source",
     "      Usage: source expression\n"
     "      \n"
     "      Try to get source code for the given object and display it."},
    {"step s",
     "      Usage: s(tep)\n"
     "      \n"
     "      Execute the current line, stop at the first possible occasion\n"
     "      (either in a function that is called or in the current\n"
     "      function)."},
    {"tbreak",
     "      Usage: tbreak [ ([filename:]lineno | function) [, condition] ]\n"
     "      \n"
     "      Same arguments as break, but sets a temporary breakpoint: it\n"
     "      is automatically deleted when first hit."},
    {"unalias",
     "      Usage: unalias name\n"
     "      \n"
     "      Delete the specified alias."},
    {"undisplay",
     "      Usage: undisplay [expression]\n"
     "      \n"
     "      Do not display the expression any more in the current frame.\n"
     "      \n"
     "      Without expression, clear all display expressions for the current frame."},
    {"until unt",
     "      Usage: unt(il) [lineno]\n"
     "      \n"
     "      Without argument, continue execution until the line with a\n"
     "      number greater than the current one is reached.  With a line\n"
     "      number, continue execution until a line with a number greater\n"
     "      or equal to that is reached.  In both cases, also stop when\n"
     "      the current frame returns."},
    {"up u",
     "      Usage: u(p) [count]\n"
     "      \n"
     "      Move the current frame count (default one) levels up in the\n"
     "      stack trace (to an older frame)."},
    {"whatis",
     "      Usage: whatis expression\n"
     "      \n"
     "      Print the type of the argument."},
    {"where bt w",
     "      Usage: w(here)\n"
     "      \n"
     "      Print a stack trace, with the most recent frame at the bottom.\n"
     "      An arrow indicates the \"current frame\", which determines the\n"
     "      context of most commands.  'bt' is an alias for this command."},
    {"env",
     "env\n        Show the environment recorded in an evidence file (sleuth open)."},
    {NULL, NULL},
};
#endif

#endif
