//! The audit's system fact parsers (passwd, shadow, group, login.defs,
//! shells, SELinux config, ufw.conf, /proc/net tables, ELF headers): any
//! bytes, no panic, no hang. The first byte picks the parser.
#![no_main]
use bakeproof_audit::facts::{accounts, arch, firewall, live, selinux};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => {
            let _ = accounts::parse_passwd(rest);
        }
        1 => {
            let _ = accounts::parse_shadow(rest);
            let _ = accounts::parse_group(rest);
        }
        2 => {
            let _ = accounts::parse_login_defs_uid_min(rest);
            let _ = accounts::parse_shells(rest);
        }
        3 => {
            // The whole join: the same bytes as every file.
            let f = accounts::from_bytes(rest, Some(rest), Some(rest), Some(rest), Some(rest));
            for a in &f.accounts {
                let _ = f.is_login_shell(&a.shell);
            }
        }
        4 => {
            let _ = selinux::parse_config(rest).effective_mode().len();
            let _ = firewall::ufw_enabled(rest);
        }
        5 => {
            for p in live::Proto::ALL {
                let _ = live::parse_proc_net(rest, p);
            }
        }
        6 => {
            let _ = live::selinux_mode_of_enforce(rest);
            let _ = arch::elf_arch(rest);
        }
        _ => {
            let _ = arch::normalize(&String::from_utf8_lossy(rest));
        }
    }
});
