// Adds a "Copier le texte" button to read-only texts marked data-copier; without
// JavaScript the text is selected and copied by hand.
"use strict";
document.querySelectorAll("textarea[data-copier]").forEach(function (area) {
  var button = document.createElement("button");
  var status = document.createElement("p");
  button.type = "button";
  button.textContent = "Copier le texte";
  status.setAttribute("role", "status");
  button.addEventListener("click", function () {
    area.select();
    var copied = navigator.clipboard ? navigator.clipboard.writeText(area.value)
                                     : Promise.reject(new Error("pas de presse-papiers"));
    copied.then(function () {
      status.textContent = "Texte copié.";
    }, function () {
      status.textContent = "Texte sélectionné : copiez-le avec Ctrl+C.";
    });
  });
  area.parentNode.after(button, status);
});
