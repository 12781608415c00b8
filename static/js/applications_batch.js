// Follow the worker: poll the batch until it is imported or refused, then show the outcome.
(function () {
  const box = document.getElementById("batch");
  const finished = new Set(["done", "failed"]);
  if (finished.has(box.dataset.state)) return;
  async function poll() {
    const response = await fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}});
    if (!response.ok) { setTimeout(poll, 3000); return; }
    const batch = await response.json();
    document.getElementById("batch-progress").value = batch.progress;
    document.getElementById("batch-percent").textContent = batch.progress + "%";
    document.getElementById("batch-state").textContent = batch.state_display;
    document.getElementById("batch-message").textContent = batch.message;
    document.getElementById("batch-errors").replaceChildren(...batch.errors.map(function (text) {
      const item = document.createElement("li"); item.className = "error"; item.textContent = text; return item;
    }));
    if (!finished.has(batch.state)) setTimeout(poll, 1000);
  }
  poll();
})();
