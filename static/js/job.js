// Follow the worker: poll the job until it is done or failed, then list the compiled tables.
(function () {
  const box = document.getElementById("job");
  const finished = new Set(["done", "failed"]);
  async function poll() {
    const response = await fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}});
    if (!response.ok) { setTimeout(poll, 3000); return; }
    const job = await response.json();
    document.getElementById("job-progress").value = job.progress;
    document.getElementById("job-percent").textContent = job.progress + "%";
    document.getElementById("job-state").textContent = job.state_display;
    document.getElementById("job-message").textContent = job.message;
    const list = document.getElementById("job-results");
    list.replaceChildren(...job.snapshots.map(function (s) {
      const item = document.createElement("li"), link = document.createElement("a");
      link.href = s.url; link.textContent = s.kind; item.append(link); return item;
    }));
    if (!finished.has(job.state)) setTimeout(poll, 1000);
  }
  poll();
})();
