// Offers each chart for download, as SVG (the drawing itself) and as PNG (drawn at twice
// its size, for a slide or a document). Without JavaScript the chart and its table remain.
"use strict";
document.querySelectorAll("figure svg.graphique").forEach(function (svg) {
  var title = (svg.querySelector("title") || {}).textContent || "graphique";
  var name = title.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase().slice(0, 60);
  var source = new XMLSerializer().serializeToString(svg);
  var dataUrl = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(source);
  var links = document.createElement("p");
  links.className = "telecharger no-print";
  var asSvg = document.createElement("a");
  asSvg.href = dataUrl;
  asSvg.download = name + ".svg";
  asSvg.textContent = "SVG";
  var asPng = document.createElement("a");
  asPng.href = "#";
  asPng.download = name + ".png";
  asPng.textContent = "PNG";
  asPng.addEventListener("click", function (event) {
    if (asPng.dataset.ready) { return; }
    event.preventDefault();
    var box = svg.viewBox.baseVal;
    var width = (box && box.width) || svg.clientWidth, height = (box && box.height) || svg.clientHeight;
    var scale = Math.max(2, 1200 / width);
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      asPng.href = canvas.toDataURL("image/png");
      asPng.dataset.ready = "1";
      asPng.click();
    };
    image.src = dataUrl;
  });
  links.append("Télécharger ce graphique : ", asSvg, " · ", asPng);
  svg.closest("figure").append(links);
});
