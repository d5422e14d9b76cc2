//! ADO.NET connection strings (`Server=tcp:db01,1433;Database=erp;User Id=perfdiag;…`),
//! as found in the configuration files of the applications an engineer comes to look
//! at, turned into the equivalent `mssql://` URL so that a SQL Server target is one
//! URL like the others (and its label is that URL without the password).
//!
//! Keys are case-insensitive and their synonyms accepted (`Data Source`, `Initial
//! Catalog`, `UID`, `PWD`, `Trusted_Connection`…). A value may be quoted with `'…'` or
//! `"…"` (a doubled quote inside stands for one) or with ODBC's `{…}`, so a password
//! may hold `;`. Keys that do not change what perfdiag reads (pooling, MARS, timeouts,
//! the application name, which is always `perfdiag`) are ignored.

use std::collections::BTreeMap;

/// The URL form of an ADO.NET connection string.
pub(crate) fn to_url(text: &str) -> Result<url::Url, String> {
    let pairs = parse_pairs(text)?;
    let get = |keys: &[&str]| keys.iter().find_map(|k| pairs.get(*k)).cloned();
    let server = get(&[
        "server",
        "data source",
        "address",
        "addr",
        "network address",
    ])
    .ok_or("the connection string names no server (Server=HOST,PORT)")?;
    let (host, port, instance) = parse_server(&server)?;
    let mut url = url::Url::parse("mssql://localhost").map_err(|e| e.to_string())?;
    url.set_host(Some(&host))
        .map_err(|e| format!("server `{host}`: {e}"))?;
    let _ = url.set_port(port);
    if let Some(user) = get(&["user id", "uid", "user", "username"]) {
        url.set_username(&user)
            .map_err(|_| "the user name cannot be kept".to_owned())?;
    }
    if let Some(password) = get(&["password", "pwd"]) {
        url.set_password(Some(&password))
            .map_err(|_| "the password cannot be kept".to_owned())?;
    }
    if let Some(database) = get(&["database", "initial catalog"]) {
        url.path_segments_mut()
            .map_err(|_| "the database cannot be kept".to_owned())?
            .push(&database);
    }
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(instance) = instance {
        query.push(("instance", instance));
    }
    if let Some(v) = get(&["trustservercertificate", "trust server certificate"]) {
        query.push((
            "trust_server_certificate",
            flag(&v, "TrustServerCertificate")?.to_string(),
        ));
    }
    if let Some(v) = get(&["encrypt"]) {
        let level = match v.to_ascii_lowercase().as_str() {
            "true" | "yes" | "mandatory" => "true",
            "false" | "no" | "optional" => "false",
            "strict" => "strict",
            other => return Err(format!("Encrypt={other}: expected True, False or Strict")),
        };
        query.push(("encrypt", level.to_owned()));
    }
    if let Some(v) = get(&["integrated security", "trusted_connection"]) {
        let on = v.eq_ignore_ascii_case("sspi") || flag(&v, "Integrated Security")?;
        if on {
            query.push(("integrated_security", "true".to_owned()));
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// `key=value` pairs split on `;`, keys lower-cased with inner spaces kept single.
fn parse_pairs(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        // The key, up to `=`.
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ';' {
                break;
            }
            key.push(c);
            chars.next();
        }
        let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
        match chars.next() {
            None if key.is_empty() => break,
            Some(';') if key.is_empty() => continue,
            Some('=') => {}
            _ => return Err(format!("`{key}` has no value (expected KEY=VALUE;…)")),
        }
        // The value: quoted, braced or bare up to `;`.
        while chars.next_if(|c| *c == ' ').is_some() {}
        let mut value = String::new();
        match chars.peek().copied() {
            Some(q @ ('\'' | '"')) => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(format!("the value of `{key}` has no closing {q}")),
                        Some(c) if c == q => {
                            if chars.next_if_eq(&q).is_some() {
                                value.push(q);
                            } else {
                                break;
                            }
                        }
                        Some(c) => value.push(c),
                    }
                }
            }
            Some('{') => {
                chars.next();
                loop {
                    match chars.next() {
                        None => return Err(format!("the value of `{key}` has no closing }}")),
                        Some('}') => {
                            if chars.next_if_eq(&'}').is_some() {
                                value.push('}');
                            } else {
                                break;
                            }
                        }
                        Some(c) => value.push(c),
                    }
                }
            }
            _ => {
                while let Some(c) = chars.next_if(|c| *c != ';') {
                    value.push(c);
                }
                value = value.trim_end().to_owned();
            }
        }
        while chars.next_if(|c| *c == ' ').is_some() {}
        match chars.next() {
            None | Some(';') => {}
            Some(c) => return Err(format!("unexpected `{c}` after the value of `{key}`")),
        }
        out.insert(key.to_ascii_lowercase(), value);
    }
    if out.is_empty() {
        return Err("empty connection string".to_owned());
    }
    Ok(out)
}

/// `tcp:db01,1433`, `db01\SQLEXPRESS`, `(local)`: host, port, instance.
fn parse_server(server: &str) -> Result<(String, Option<u16>, Option<String>), String> {
    let s = server.trim();
    let s = match s.split_once(':') {
        Some((proto, rest)) if proto.eq_ignore_ascii_case("tcp") => rest,
        Some((proto, _))
            if ["np", "lpc", "admin"]
                .iter()
                .any(|p| proto.eq_ignore_ascii_case(p)) =>
        {
            return Err(format!(
                "`{server}`: only TCP connections are supported (not named pipes or shared memory)"
            ));
        }
        _ => s,
    };
    let (s, port) = match s.rsplit_once(',') {
        Some((host, port)) => {
            let port: u16 = port
                .trim()
                .parse()
                .map_err(|_| format!("`{server}`: the port after the comma is not a number"))?;
            (host.trim(), Some(port))
        }
        None => (s, None),
    };
    let (host, instance) = match s.split_once('\\') {
        Some((host, instance)) => (host, Some(instance.to_owned())),
        None => (s, None),
    };
    let host = match host {
        "." | "(local)" | "(localdb)" => "localhost",
        h => h,
    };
    if host.is_empty() {
        return Err(format!("`{server}` names no host"));
    }
    Ok((host.to_owned(), port, instance))
}

fn flag(value: &str, key: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" => Ok(true),
        "false" | "no" => Ok(false),
        other => Err(format!("{key}={other}: expected True or False")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_maps_to_one_url() {
        let url = to_url(
            "Data Source=tcp:db01.corp,1533;Initial Catalog=ERP Prod;UID=perf diag;PWD={a;b}}c};\
             Encrypt=Strict;Trusted_Connection=no;MultipleActiveResultSets=True",
        )
        .unwrap();
        assert_eq!(url.host_str(), Some("db01.corp"));
        assert_eq!(url.port(), Some(1533));
        assert_eq!(url.username(), "perf%20diag");
        assert_eq!(url.password(), Some("a%3Bb%7Dc"));
        assert_eq!(url.path(), "/ERP%20Prod");
        assert_eq!(url.query(), Some("encrypt=strict"));
    }

    #[test]
    fn named_instances_local_hosts_and_integrated_security() {
        let url = to_url("Server=.\\SQLEXPRESS;Integrated Security=SSPI").unwrap();
        assert_eq!(url.host_str(), Some("localhost"));
        assert_eq!(url.port(), None);
        assert_eq!(
            url.query(),
            Some("instance=SQLEXPRESS&integrated_security=true")
        );
        let url = to_url("server = \"db02\" ; user id = 'o''brien' ;").unwrap();
        assert_eq!(url.host_str(), Some("db02"));
        assert_eq!(url.username(), "o'brien");
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        for (text, needle) in [
            ("Database=erp", "no server"),
            ("Server=db01,14x3", "port"),
            ("Server=np:\\\\db01\\pipe\\sql\\query", "only TCP"),
            ("Server=db01;Password='open", "closing"),
            ("Server=db01;Encrypt=maybe", "Encrypt=maybe"),
            ("Server=db01;junk", "no value"),
            ("", "empty"),
        ] {
            let e = to_url(text).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
