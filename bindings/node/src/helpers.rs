//! Pure helpers over the core, for tests and debugging: decode a body, show
//! the parameters or the whole request a query becomes. No I/O.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sendcloud_status::core::Decoder;
use sendcloud_status::core::request::wire_params;

use crate::client::checked;
use crate::convert::{DecodedPage, EmailRecord};
use crate::options::{EncodeOptions, QueryOptions, utc_offset};

fn pairs(params: Vec<(sendcloud_status::core::Param, String)>) -> Vec<Vec<String>> {
    params.into_iter().map(|(p, v)| vec![p.wire_name().to_owned(), v]).collect()
}

/// Decodes one API answer (`Decoder::decode`): the page, or the classified
/// error thrown as a `SendCloudError`.
#[napi(ts_args_type = "httpStatus: number, body: string | Buffer, serverUtcOffset?: string | undefined | null")]
pub fn decode_page(
    env: Env,
    http_status: u32,
    body: Either<String, Buffer>,
    server_utc_offset: Option<String>,
) -> Result<DecodedPage> {
    checked(&env, || {
        let decoder = match &server_utc_offset {
            Some(o) => Decoder::new(utc_offset(o)?),
            None => Decoder::default(),
        };
        let status = u16::try_from(http_status).unwrap_or(u16::MAX);
        let bytes: &[u8] = match &body {
            Either::A(s) => s.as_bytes(),
            Either::B(b) => b,
        };
        let page = decoder.decode(status, bytes)?;
        Ok(DecodedPage {
            total: page.total.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            list_size: page.list_size.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            records: page.records.into_iter().map(EmailRecord::from).collect(),
        })
    })
}

/// The wire parameters of the page a query describes (`request::wire_params`):
/// credentials excluded, unset filters omitted, in the core's table order.
#[napi(ts_return_type = "Array<[string, string]>")]
pub fn encode_query(env: Env, filters: QueryOptions) -> Result<Vec<Vec<String>>> {
    checked(&env, || {
        let q = filters.query()?;
        Ok(pairs(wire_params(&q, q.window(), q.email_ids(), q.start(), q.limit())))
    })
}

/// An encoded request (`Encoder::encode`). The body (POST) or URL (GET)
/// holds the key you pass: do not log it.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone)]
pub struct EncodedRequest {
    /// `POST` or `GET`.
    pub method: String,
    /// The URL (with every parameter for GET).
    pub url: String,
    /// Header name/value pairs.
    pub headers: Vec<Vec<String>>,
    /// The form body (empty for GET).
    pub body: String,
    /// The query's parameters without credentials, as `encodeQuery` gives them.
    pub params: Vec<Vec<String>>,
}

/// The request one page of a query becomes, with the endpoint's window
/// check (`Encoder::encode`).
#[napi]
pub fn encode_request(env: Env, filters: QueryOptions, options: EncodeOptions) -> Result<EncodedRequest> {
    checked(&env, || {
        let q = filters.query()?;
        let request = options.encoder()?.encode(&q)?;
        Ok(EncodedRequest {
            method: request.method().as_str().to_owned(),
            url: request.url().to_owned(),
            headers: request.headers().iter().map(|(n, v)| vec![(*n).to_owned(), v.clone()]).collect(),
            body: String::from_utf8_lossy(request.body()).into_owned(),
            params: pairs(wire_params(&q, q.window(), q.email_ids(), q.start(), q.limit())),
        })
    })
}
