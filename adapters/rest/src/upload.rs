//! Multipart uploads: reading the form of a file upload without holding it in memory.
//!
//! The seed's form names the room (`channelId`, `communityId`, `type`) and the file type
//! in text fields, and membership must be checked before anything of the upload is
//! written anywhere. So the form is read in two steps: the text fields before the first
//! file part (the caller checks membership there), then the rest, each file part copied,
//! chunk by chunk, into an anonymous temporary file (deleted by the OS when closed)
//! while its size is counted: past the limit the request is refused with 413 at once.
//! Once the form is complete, the use case streams the temporary files into the store.
//!
//! [`StreamedForm`] is the request payload: poem-openapi's own `Multipart` derive would
//! spool every part with no size limit, so the form is read here, and a derived form
//! type `D` only documents the fields in the OpenAPI document.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::marker::PhantomData;

use application::ports::inbound::ByteStream;
use application::usecases::IncomingFile;
use poem::web::{Field, Multipart};
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::body_limit::UploadOverLimit;
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
    /// Set by `body_limit` once the body passed the upload limit.
    over_limit: Option<UploadOverLimit>,
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
            over_limit: request.extensions().get::<UploadOverLimit>().cloned(),
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
    /// Reads the form in two steps: [`FormReader::read_fields`] reads the text fields up
    /// to the first file part named in `file_fields` (so the caller can check who may
    /// upload there before anything is written to disk), then [`FormReader::finish`]
    /// reads the rest, spooling those file parts into temporary files of at most
    /// `max_file_bytes` each.
    pub(crate) fn reader<'f>(
        self,
        file_fields: &'f [&'f str],
        max_file_bytes: u64,
    ) -> FormReader<'f> {
        FormReader {
            multipart: self.multipart,
            over_limit: self.over_limit,
            file_fields,
            max_file_bytes,
            form: ReadForm {
                text: HashMap::new(),
                files: HashMap::new(),
            },
            parts: 0,
            pending: None,
            ended: false,
        }
    }
}

/// A form being read; see [`StreamedForm::reader`].
pub(crate) struct FormReader<'f> {
    multipart: Multipart,
    over_limit: Option<UploadOverLimit>,
    file_fields: &'f [&'f str],
    max_file_bytes: u64,
    form: ReadForm,
    parts: usize,
    /// The first file part, met by `read_fields` and not read yet.
    pending: Option<Field>,
    ended: bool,
}

/// What to do with a part.
enum PartKind {
    /// A file part the form expects: spooled.
    File,
    /// A text field: kept, up to [`MAX_TEXT_BYTES`].
    Text,
    /// An unexpected file part: read past without keeping it.
    Skip,
}

impl FormReader<'_> {
    /// The text fields read so far.
    pub(crate) fn form(&self) -> &ReadForm {
        &self.form
    }

    /// Whether the whole form was read (no file part came).
    pub(crate) fn ended(&self) -> bool {
        self.ended
    }

    /// Reads the text fields that come before the first expected file part.
    pub(crate) async fn read_fields(&mut self) -> Result<(), ApiError> {
        while self.pending.is_none() && !self.ended {
            let Some(field) = self.next_part().await? else {
                self.ended = true;
                break;
            };
            match self.kind(&field) {
                PartKind::File => self.pending = Some(field),
                PartKind::Text => self.read_text(field).await?,
                PartKind::Skip => self.skip(field).await?,
            }
        }
        Ok(())
    }

    /// Reads the rest of the form, spooling its expected file parts.
    pub(crate) async fn finish(mut self) -> Result<ReadForm, ApiError> {
        loop {
            let field = match self.pending.take() {
                Some(field) => field,
                None => match self.next_part().await? {
                    Some(field) => field,
                    None => break,
                },
            };
            match self.kind(&field) {
                PartKind::File => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file_name = field.file_name().map(str::to_owned);
                    let content_type = field.content_type().map(str::to_owned);
                    let file = spool(field.into_async_read(), self.max_file_bytes)
                        .await
                        .map_err(|err| self.or_over_limit(err))?;
                    self.form.files.insert(
                        name,
                        SpooledFile {
                            file_name,
                            content_type,
                            file,
                        },
                    );
                }
                PartKind::Text => self.read_text(field).await?,
                PartKind::Skip => self.skip(field).await?,
            }
        }
        Ok(self.form)
    }

    fn kind(&self, field: &Field) -> PartKind {
        match (field.name(), field.file_name()) {
            (Some(name), Some(_)) if self.file_fields.contains(&name) => PartKind::File,
            (_, None) => PartKind::Text,
            (_, Some(_)) => PartKind::Skip,
        }
    }

    async fn next_part(&mut self) -> Result<Option<Field>, ApiError> {
        let field = self
            .multipart
            .next_field()
            .await
            .map_err(|e| self.or_over_limit(malformed(&e)))?;
        if field.is_some() {
            self.parts += 1;
            if self.parts > MAX_PARTS {
                return Err(ApiError::bad_request(
                    "invalid_form",
                    format!("more than {MAX_PARTS} form fields"),
                ));
            }
        }
        Ok(field)
    }

    async fn read_text(&mut self, field: Field) -> Result<(), ApiError> {
        let Some(name) = field.name().map(str::to_owned) else {
            return self.skip(field).await;
        };
        let mut value = Vec::new();
        field
            .into_async_read()
            .take(MAX_TEXT_BYTES + 1)
            .read_to_end(&mut value)
            .await
            .map_err(|err| {
                self.or_over_limit(ApiError::bad_request("invalid_form", err.to_string()))
            })?;
        if value.len() as u64 > MAX_TEXT_BYTES {
            return Err(ApiError::bad_request(
                "invalid_form",
                format!("field `{name}` is longer than {MAX_TEXT_BYTES} bytes"),
            ));
        }
        let value = String::from_utf8(value).map_err(|_| {
            ApiError::bad_request("invalid_form", format!("field `{name}` is not UTF-8"))
        })?;
        self.form.text.insert(name, value);
        Ok(())
    }

    async fn skip(&self, field: Field) -> Result<(), ApiError> {
        tokio::io::copy(&mut field.into_async_read(), &mut tokio::io::sink())
            .await
            .map_err(|err| {
                self.or_over_limit(ApiError::bad_request("invalid_form", err.to_string()))
            })?;
        Ok(())
    }

    /// `err`, unless the body failed because it passed the upload limit: then 413.
    fn or_over_limit(&self, err: ApiError) -> ApiError {
        if self
            .over_limit
            .as_ref()
            .is_some_and(UploadOverLimit::is_set)
        {
            tracing::info!("upload refused: over the upload limit");
            ApiError::upload_too_large("the upload is larger than the server accepts")
        } else {
            err
        }
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
