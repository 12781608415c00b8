// Follow the background jobs on the page: poll each box's status until the job is done or failed,
// then show its results (links) or its errors. One poller for every kind of job.
(function () {
  function item(text, href) {
    const li = document.createElement("li");
    if (href) {
      const link = document.createElement("a");
      link.href = href; link.textContent = text; li.append(link);
    } else {
      li.className = "error"; li.textContent = text;
    }
    return li;
  }

  function show(box, job) {
    box.dataset.state = job.state;
    box.querySelector(".job-progress").value = job.progress;
    box.querySelector(".job-percent").textContent = job.progress + "%";
    box.querySelector(".job-state").textContent = job.label;
    box.querySelector(".job-message").textContent = job.message;
    box.querySelector(".job-results").replaceChildren(...job.results.map(function (r) { return item(r.label, r.url); }));
    box.querySelector(".job-errors").replaceChildren(...job.errors.map(function (e) { return item(e); }));
  }

  function follow(box) {
    async function poll() {
      let job;
      try {
        const response = await fetch(box.dataset.statusUrl, {headers: {"Accept": "application/json"}});
        if (!response.ok) { setTimeout(poll, 3000); return; }
        job = await response.json();
      } catch (error) {
        setTimeout(poll, 3000);  // the network came and went: try again
        return;
      }
      show(box, job);
      if (!job.finished) setTimeout(poll, 1000);
    }
    poll();
  }

  document.querySelectorAll(".job[data-status-url]").forEach(function (box) {
    if (box.dataset.state !== "done" && box.dataset.state !== "failed") follow(box);
  });
})();
