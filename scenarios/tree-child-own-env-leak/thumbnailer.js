// Renders thumbnails on request and keeps every result in a history nobody ever reads or trims.
'use strict';

class RenderedThumbnail {
  constructor(image, quality) {
    this.image = image;
    this.quality = quality;
    this.pixels = Buffer.alloc(64, 1).toString('base64');
    this.renderedAt = Date.now();
  }
}

const quality = Number(process.env.THUMB_QUALITY || 50);
const history = [];

process.on('message', ({ id, image }) => {
  const thumbnail = new RenderedThumbnail(image, quality);
  history.push(thumbnail);
  process.send({ id, bytes: thumbnail.pixels.length });
});
