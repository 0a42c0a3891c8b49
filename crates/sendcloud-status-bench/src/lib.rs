//! Shared pieces of the benchmarks: sample page bodies for the decode
//! comparison (used by the criterion bench and the interleaved `decode`
//! subcommand alike).

/// Status texts of the Chinese profile (with their sub-statuses).
pub const ZH: [(&str, Option<u16>); 5] = [
    ("投递成功", None),
    ("无效邮件-地址不存在", Some(406)),
    ("软退信-服务不可达", Some(503)),
    ("投递成功", None),
    ("请求中", None),
];
/// Status texts of the English profile.
pub const EN: [(&str, Option<u16>); 5] = [
    ("Delivered", None),
    ("Invalid Mail - Address Does Not Exist", Some(406)),
    ("Soft Bounce - Server Unreachable", Some(503)),
    ("Delivered", None),
    ("Sending", None),
];

/// A realistic page body: shaped like the documented response and the
/// sandbox's, 100 rows.
pub fn page(statuses: &[(&str, Option<u16>); 5], message: &str) -> Vec<u8> {
    let rows: Vec<String> = (0..100)
        .map(|i| {
            let (status, sub) = statuses[i % 5];
            let sub = sub.map_or(String::new(), |c| format!(r#","subStatus":{c},"subStatusDesc":"{status}""#));
            format!(
                r#"{{"emailId":"1716{i:09}_4576_32113_9310.sc-10_10_127_105-inbound0${i}user@example.com","status":"{status}","apiUser":"sandbox_user","recipients":"user{i}@example.com","requestTime":"2024-05-20 09:{:02}:{:02}","modifiedTime":"2024-05-20 09:{:02}:{:02}","sendLog":"250 2.0.0 OK queued as {i:08X}"{sub}}}"#,
                i % 60,
                (i * 7) % 60,
                (i + 1) % 60,
                (i * 11) % 60
            )
        })
        .collect();
    format!(
        r#"{{"result":true,"statusCode":200,"message":"{message}","info":{{"total":"12345","voListSize":100,"voList":[{}]}}}}"#,
        rows.join(",")
    )
    .into_bytes()
}

/// The two profiles the decode comparison runs: name, body.
pub fn profiles() -> [(&'static str, Vec<u8>); 2] {
    [("zh", page(&ZH, "请求成功")), ("en", page(&EN, "success"))]
}
