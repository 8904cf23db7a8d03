//! Multipart uploads: reading the form of a file upload without holding it in memory.
//!
//! The seed's form names the room (`channelId`, `communityId`, `type`) and the file type
//! in text fields that may come after the file itself, and membership must be checked
//! before anything reaches the file store. So each file part is copied, chunk by chunk,
//! into an anonymous temporary file (deleted by the OS when closed) while its size is
//! counted: past the limit the request is refused with 413 at once. Once the form is
//! complete, the use case streams the temporary files into the store.
//!
//! [`StreamedForm`] is the request payload: poem-openapi's own `Multipart` derive would
//! spool every part with no size limit, so the form is read here, and a derived form
//! type `D` only documents the fields in the OpenAPI document.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::marker::PhantomData;

use application::ports::outbound::ByteStream;
use application::usecases::IncomingFile;
use poem::web::Multipart;
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::error::ApiError;

/// Longest text field accepted (ids, file types, names).
const MAX_TEXT_BYTES: u64 = 4096;
/// Most parts accepted in one form.
const MAX_PARTS: usize = 32;
/// Bytes read from a spooled file per chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// A `multipart/form-data` body read part by part; `D` documents its fields.
pub(crate) struct StreamedForm<D> {
    multipart: Multipart,
    _doc: PhantomData<fn() -> D>,
}

impl<D: Payload> Payload for StreamedForm<D> {
    const CONTENT_TYPE: &'static str = "multipart/form-data";

    fn check_content_type(content_type: &str) -> bool {
        content_type
            .split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(Self::CONTENT_TYPE))
    }

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }
}

impl<D: Payload> ParsePayload for StreamedForm<D> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let multipart = <Multipart as poem::FromRequest>::from_request(request, body).await?;
        Ok(Self {
            multipart,
            _doc: PhantomData,
        })
    }
}

impl<'a, D: Payload> ApiExtractor<'a> for StreamedForm<D> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(content_type) if <Self as Payload>::check_content_type(content_type) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(content_type) => Err(poem_openapi::error::ContentTypeError::NotSupported {
                content_type: content_type.to_owned(),
            }
            .into()),
            None => Err(poem_openapi::error::ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// A file part, copied to an anonymous temporary file.
pub(crate) struct SpooledFile {
    file_name: Option<String>,
    content_type: Option<String>,
    file: tokio::fs::File,
}

impl SpooledFile {
    /// `image` or `video` by the declared media type, else `file`.
    pub(crate) fn default_file_type(&self) -> &'static str {
        match self.content_type.as_deref() {
            Some(t) if t.starts_with("image/") => "image",
            Some(t) if t.starts_with("video/") => "video",
            _ => "file",
        }
    }

    /// The part as the use case takes it: its content streamed back from disk.
    pub(crate) fn into_incoming(self) -> IncomingFile {
        IncomingFile {
            file_name: self.file_name,
            content_type: self.content_type,
            body: read_chunks(self.file),
        }
    }
}

fn read_chunks(file: tokio::fs::File) -> ByteStream {
    Box::pin(futures::stream::try_unfold(file, |mut file| async move {
        let mut chunk = vec![0; CHUNK_BYTES];
        let read = file.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        chunk.truncate(read);
        Ok(Some((chunk, file)))
    }))
}

/// A read form: its text fields and the file parts named in `file_fields`.
pub(crate) struct ReadForm {
    text: HashMap<String, String>,
    files: HashMap<String, SpooledFile>,
}

impl ReadForm {
    /// A text field, trimmed; `None` when absent or empty.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.text
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// A required text field.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.text(name)
            .ok_or_else(|| ApiError::bad_request("missing_field", format!("`{name}` is required")))
    }

    /// Takes a file part out of the form.
    pub(crate) fn take_file(&mut self, name: &str) -> Option<SpooledFile> {
        self.files.remove(name)
    }
}

impl<D> StreamedForm<D> {
    /// Reads every part: text fields up to 4 KiB, the parts named in `file_fields` into
    /// temporary files of at most `max_file_bytes` each; other file parts are skipped.
    pub(crate) async fn read(
        mut self,
        file_fields: &[&str],
        max_file_bytes: u64,
    ) -> Result<ReadForm, ApiError> {
        let mut form = ReadForm {
            text: HashMap::new(),
            files: HashMap::new(),
        };
        let mut parts = 0;
        while let Some(field) = self
            .multipart
            .next_field()
            .await
            .map_err(|e| malformed(&e))?
        {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(ApiError::bad_request(
                    "invalid_form",
                    format!("more than {MAX_PARTS} form fields"),
                ));
            }
            let Some(name) = field.name().map(str::to_owned) else {
                continue;
            };
            if file_fields.contains(&name.as_str()) && field.file_name().is_some() {
                let file_name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().map(str::to_owned);
                let file = spool(field.into_async_read(), max_file_bytes).await?;
                form.files.insert(
                    name,
                    SpooledFile {
                        file_name,
                        content_type,
                        file,
                    },
                );
            } else if field.file_name().is_none() {
                let mut value = Vec::new();
                field
                    .into_async_read()
                    .take(MAX_TEXT_BYTES + 1)
                    .read_to_end(&mut value)
                    .await
                    .map_err(|err| ApiError::bad_request("invalid_form", err.to_string()))?;
                if value.len() as u64 > MAX_TEXT_BYTES {
                    return Err(ApiError::bad_request(
                        "invalid_form",
                        format!("field `{name}` is longer than {MAX_TEXT_BYTES} bytes"),
                    ));
                }
                let value = String::from_utf8(value).map_err(|_| {
                    ApiError::bad_request("invalid_form", format!("field `{name}` is not UTF-8"))
                })?;
                form.text.insert(name, value);
            } else {
                // An unexpected file part: read past it without keeping it.
                tokio::io::copy(&mut field.into_async_read(), &mut tokio::io::sink())
                    .await
                    .map_err(|err| ApiError::bad_request("invalid_form", err.to_string()))?;
            }
        }
        Ok(form)
    }
}

fn malformed(err: &poem::error::ParseMultipartError) -> ApiError {
    ApiError::bad_request("invalid_form", err.to_string())
}

/// Copies a part into an anonymous temporary file, refusing it once it passes `max` bytes.
async fn spool(
    part: impl tokio::io::AsyncRead + Send,
    max: u64,
) -> Result<tokio::fs::File, ApiError> {
    let std_file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|err| ApiError::internal(&anyhow::Error::new(err)))?
        .map_err(|err| ApiError::internal(&anyhow::Error::new(err)))?;
    let mut file = tokio::fs::File::from_std(std_file);
    let mut part = std::pin::pin!(part.take(max + 1));
    let copied = tokio::io::copy(&mut part, &mut file)
        .await
        .map_err(|err| ApiError::bad_request("invalid_form", err.to_string()))?;
    if copied > max {
        return Err(ApiError::too_large(format!(
            "the file is larger than {max} bytes"
        )));
    }
    file.flush()
        .await
        .map_err(|err| ApiError::internal(&anyhow::Error::new(err)))?;
    file.seek(SeekFrom::Start(0))
        .await
        .map_err(|err| ApiError::internal(&anyhow::Error::new(err)))?;
    Ok(file)
}
