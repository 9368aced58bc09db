//! Which Python runs yt-dlp: read from its launcher, so the warm workers import the very
//! `yt_dlp` the command line would run.
//!
//! pip (and pipx, uv) install a script whose first line names the environment's interpreter:
//! `#!/venv/bin/python3`; where that path is too long for a kernel shebang, distlib writes a
//! `/bin/sh` script that `exec`s it (`'''exec' "/long/venv/bin/python3" "$0" "$@"`). yt-dlp's
//! own zipimport build starts `#!/usr/bin/env python3` and carries the module inside the file.
//! A PyInstaller binary (or a wrapper script) has no interpreter to name: yt-dlp then runs as a
//! process per call.

use std::path::{Path, PathBuf};

/// An interpreter command: the program and the options the shebang gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// How much of a launcher is read to find its interpreter.
const HEAD: usize = 4096;

/// The interpreter the launcher at `program` (a path, or a name on `PATH`) runs under, or why
/// there is none.
pub fn interpreter_of_program(program: &Path) -> Result<(PathBuf, Interpreter), String> {
    let path = find_program(program).ok_or_else(|| format!("{} was not found", program.display()))?;
    let mut head = Vec::with_capacity(HEAD);
    use std::io::Read;
    std::fs::File::open(&path)
        .and_then(|f| f.take(HEAD as u64).read_to_end(&mut head))
        .map_err(|e| format!("{} cannot be read ({e})", path.display()))?;
    let interpreter = interpreter_of(&head).ok_or_else(|| {
        format!(
            "{} is not a Python script (a standalone build or a wrapper)",
            path.display()
        )
    })?;
    Ok((path, interpreter))
}

/// The Python interpreter named by a launcher that starts with `head`.
pub fn interpreter_of(head: &[u8]) -> Option<Interpreter> {
    let body = head.strip_prefix(b"#!")?;
    // The text up to the first byte that is not UTF-8 (a zip follows a zipimport's shebang).
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).ok()?,
    };
    let mut lines = text.lines();
    let words: Vec<&str> = lines.next()?.split_whitespace().collect();
    let (program, rest) = words.split_first()?;
    let (program, args) = if basename(program) == "env" {
        // `env [-S] python3 [options]`: the first word that is not an option of env's.
        let mut rest = rest.iter().skip_while(|w| w.starts_with('-'));
        (*rest.next()?, rest.map(|w| w.to_string()).collect())
    } else {
        (*program, rest.iter().map(|w| w.to_string()).collect())
    };
    if is_python(program) {
        return Some(Interpreter {
            program: program.into(),
            args,
        });
    }
    if matches!(basename(program), "sh" | "bash" | "dash") {
        // distlib's long-path launcher, line 2: '''exec' "/path/python" "$0" "$@"
        let exec = lines.next()?.strip_prefix("'''exec' \"")?;
        let (python, _) = exec.split_once('"')?;
        return is_python(python).then(|| Interpreter {
            program: python.into(),
            args: Vec::new(),
        });
    }
    None
}

fn basename(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

fn is_python(program: &str) -> bool {
    let name = basename(program);
    name.starts_with("python") || name.starts_with("pypy")
}

/// `program` as a path: itself when it has a directory part, else the first executable file of
/// that name on `PATH` (what running it would start).
fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn python(program: &str, args: &[&str]) -> Option<Interpreter> {
        Some(Interpreter {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        })
    }

    #[test]
    fn launchers_as_installers_write_them() {
        // pip's console script, as in this repository's .venv-test/bin/yt-dlp.
        let pip = b"#!/work/main/.venv-test/bin/python3\n# -*- coding: utf-8 -*-\nimport re\n";
        assert_eq!(interpreter_of(pip), python("/work/main/.venv-test/bin/python3", &[]));
        // distlib's launcher for a path too long for a shebang (pip/_vendor/distlib/scripts.py
        // `_build_shebang`).
        let long = b"#!/bin/sh\n'''exec' \"/home/u/a very long/venv/bin/python3\" \"$0\" \"$@\"\n' '''\n";
        assert_eq!(
            interpreter_of(long),
            python("/home/u/a very long/venv/bin/python3", &[])
        );
        // yt-dlp's zipimport build (its Makefile: `echo '#!$(PYTHON)' > yt-dlp`, with
        // PYTHON=/usr/bin/env python3), then the zip.
        let zip = b"#!/usr/bin/env python3\nPK\x03\x04\x14\x00\x00\x00";
        assert_eq!(interpreter_of(zip), python("python3", &[]));
        assert_eq!(
            interpreter_of(b"#!/usr/bin/env -S python3 -s\n"),
            python("python3", &["-s"])
        );
        assert_eq!(
            interpreter_of(b"#!/usr/bin/python3 -I\n"),
            python("/usr/bin/python3", &["-I"])
        );
        assert_eq!(
            interpreter_of(b"#!/opt/pypy3/bin/pypy3\n"),
            python("/opt/pypy3/bin/pypy3", &[])
        );
    }

    #[test]
    fn binaries_and_wrappers_name_no_interpreter() {
        assert_eq!(interpreter_of(b"\x7fELF\x02\x01\x01\x00"), None, "PyInstaller");
        assert_eq!(interpreter_of(b"#!/bin/sh\nexec /venv/bin/yt-dlp \"$@\"\n"), None);
        assert_eq!(interpreter_of(b"#!/usr/bin/env node\n"), None);
        assert_eq!(interpreter_of(b"#!\n"), None);
        assert_eq!(interpreter_of(b""), None);
    }

    #[test]
    fn a_program_is_found_as_running_it_would() {
        let dir = tempfile::TempDir::new().unwrap();
        let launcher = dir.path().join("yt-dlp");
        std::fs::write(&launcher, "#!/usr/bin/python3\n").unwrap();
        let (path, interpreter) = interpreter_of_program(&launcher).unwrap();
        assert_eq!((path, interpreter.program), (launcher, "/usr/bin/python3".into()));
        let missing = interpreter_of_program(Path::new("/nonexistent/yt-dlp")).unwrap_err();
        assert!(missing.contains("not found"), "{missing}");
    }

    proptest! {
        #[test]
        fn any_head_is_read_without_panic(head in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut with_shebang = b"#!".to_vec();
            with_shebang.extend(&head);
            let _ = interpreter_of(&head);
            let _ = interpreter_of(&with_shebang);
        }
    }
}
