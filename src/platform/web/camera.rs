//! Photos made small on the phone with the browser's own decoder and canvas (so the app's download
//! does not grow): the content checked first, orientation applied, the long edge fitted, and
//! re-encoded as JPEG, which leaves the original's EXIF (location, camera) behind.

use crate::domain::photo::{self, PreparedPhoto};
use crate::service::ApiError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = "
export async function decode(file) {
  return await createImageBitmap(file, { imageOrientation: 'from-image' });
}
export async function encode(bitmap, w, h, qualities, target) {
  const canvas = new OffscreenCanvas(w, h);
  const g = canvas.getContext('2d');
  g.imageSmoothingQuality = 'high';
  g.drawImage(bitmap, 0, 0, w, h);
  let blob = null;
  for (const q of qualities) {
    blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: q });
    if (blob.size <= target) break;
  }
  return new Uint8Array(await blob.arrayBuffer());
}
")]
extern "C" {
    /// The image decoded by the browser, turned upright by its EXIF orientation.
    #[wasm_bindgen(catch)]
    async fn decode(file: &web_sys::File) -> Result<JsValue, JsValue>;
    /// The bitmap drawn at `w`×`h` and encoded as JPEG at the first quality within `target` bytes.
    #[wasm_bindgen(catch)]
    async fn encode(
        bitmap: &JsValue,
        w: u32,
        h: u32,
        qualities: Vec<f64>,
        target: u32,
    ) -> Result<JsValue, JsValue>;
}

/// JPEG qualities tried for a photo, best first, until it fits [`photo::TARGET_BYTES`].
const QUALITIES: [f64; 6] = [0.82, 0.74, 0.66, 0.58, 0.5, 0.42];
/// JPEG qualities tried for a thumbnail.
const THUMB_QUALITIES: [f64; 3] = [0.7, 0.6, 0.5];
/// The size a thumbnail aims at, bytes.
const THUMB_TARGET: u32 = 24 * 1024;

/// Prepares every photo chosen in the file input `input_id` (then clears it, so the same photo
/// can be chosen again); the first that fails stops with its reason in words.
pub async fn prepare(input_id: &str) -> Result<Vec<PreparedPhoto>, ApiError> {
    let input: web_sys::HtmlInputElement = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(input_id))
        .and_then(|e| e.dyn_into().ok())
        .ok_or_else(|| ApiError::new("err.photo.unreadable").detail(input_id))?;
    let files: Vec<web_sys::File> = match input.files() {
        Some(list) => (0..list.length()).filter_map(|i| list.get(i)).collect(),
        None => Vec::new(),
    };
    let mut out = Vec::with_capacity(files.len());
    let mut failed = None;
    for file in &files {
        match prepare_one(file).await {
            Ok(p) => out.push(p),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    input.set_value("");
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

async fn prepare_one(file: &web_sys::File) -> Result<PreparedPhoto, ApiError> {
    let unreadable = |e: JsValue| {
        ApiError::new("err.photo.unreadable")
            .detail(e.as_string().unwrap_or_else(|| format!("{e:?}")))
    };
    // The content decides, not the name: a header is enough to know the format and the size.
    let head = file
        .slice_with_f64_and_f64(0.0, 256.0 * 1024.0)
        .map_err(unreadable)?;
    let head = JsFuture::from(head.array_buffer())
        .await
        .map_err(unreadable)?;
    let head = js_sys::Uint8Array::new(&head).to_vec();
    photo::inspect(&head).map_err(ApiError::from)?;
    let bitmap = decode(file)
        .await
        .map_err(|_| ApiError::new("err.photo.undecodable"))?;
    let bmp: &web_sys::ImageBitmap = bitmap.unchecked_ref();
    let (w, h) = (bmp.width(), bmp.height());
    let (fw, fh) = photo::fit(w, h, photo::MAX_EDGE);
    let (tw, th) = photo::fit(w, h, photo::THUMB_EDGE);
    let full = encode(
        &bitmap,
        fw,
        fh,
        QUALITIES.to_vec(),
        photo::TARGET_BYTES as u32,
    )
    .await;
    let thumb = encode(&bitmap, tw, th, THUMB_QUALITIES.to_vec(), THUMB_TARGET).await;
    bmp.close();
    let bytes = |v: Result<JsValue, JsValue>| {
        v.map(|a| js_sys::Uint8Array::new(&a).to_vec())
            .map_err(unreadable)
    };
    let prepared = PreparedPhoto {
        full: bytes(full)?,
        thumb: bytes(thumb)?,
    };
    // The same checks the store makes, so a refusal is said while the photo is still in hand.
    prepared.to_ref().map_err(ApiError::from)?;
    Ok(prepared)
}
