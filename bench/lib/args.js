'use strict';
// The harness scripts' command lines: `--flag value` or `--flag=value`, and lists of names.

/**
 * Calls onOption(flag, value) for each argument; value() takes the flag's value (inline after
 * `=`, or the next argument) and says which flag lacks one.
 */
function eachOption(argv, onOption) {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    onOption(flag, value);
  }
}

/** `a, b,,c` -> ['a', 'b', 'c'] */
function nameList(text) {
  return String(text)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

module.exports = { eachOption, nameList };
