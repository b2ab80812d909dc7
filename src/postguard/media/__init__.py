"""Photos and videos: what clause A.iii sees in what is attached (``pip install 'postguard[media]'``).

- :mod:`postguard.media.types`: frames, sightings, the detector protocol, :class:`MediaError`.
- :mod:`postguard.media.read`: opening an attachment (images: JPEG, PNG, WebP, GIF,
  HEIC; video: MP4, MOV, WebM), checking it is what its name says and within the
  pack's limits, and its frames (a video's sampled every second and at scene changes).
- :mod:`postguard.media.metadata`: EXIF, XMP and IPTC (position, device serial,
  owner or artist, times).
- :mod:`postguard.media.ocr`, :mod:`postguard.media.faces`, :mod:`postguard.media.plates`,
  :mod:`postguard.media.documents`: the detectors.
- :mod:`postguard.media.inspect`: the :class:`~postguard.checks.attachments.AttachmentInspector`
  the checker is given: sightings become findings (text read is judged by the text checks).
- :mod:`postguard.media.redact`: a safe copy (metadata stripped, faces, plates and flagged
  text blurred).

Everything runs offline; the models come inside their PyPI packages.
"""
