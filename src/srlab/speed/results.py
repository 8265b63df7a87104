"""The bench's results as Markdown: the machine, the configuration, then the figures."""

from __future__ import annotations

from typing import Any

# Figure -> the least value that meets issue 6's target on 2 CPU cores.
TARGETS = {
    "train_step_ratio_vs_plain": 0.97,
    "train_e2e_ratio_vs_plain": 0.97,  # issue 16
    "data_over_model": 5.0,
    "imresize_speedup_vs_numpy": 5.0,  # x2 and x4
    "imresize_speedup_vs_numpy_x3": 5.0,  # issue 16: every scale
    "imresize_speedup_vs_numpy_0.7": 5.0,
}


def number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def target_cell(name: str, median: float) -> str:
    if name not in TARGETS:
        return ""
    met = "met" if median >= TARGETS[name] else "**not met**"
    return f"≥ {TARGETS[name]:g}: {met}"


def machine_line(machine: dict[str, Any]) -> str:
    gpu = machine.get("gpu")
    gpu_text = f"{gpu['name']} x{gpu['count']}" if gpu else "no GPU"
    env = ", ".join(f"{k}={v}" for k, v in machine.get("env", {}).items()) or "no OMP/MKL env"
    return (
        f"{machine['cpu']}, {machine['cpu_cores_usable']} of {machine['cpu_cores']} cores, "
        f"torch {machine['torch']} with {machine['torch_threads']} threads, {gpu_text}, {env}; "
        f"load average {number(machine['load_average_1min'])} at the start, "
        f"{number(machine.get('load_average_1min_end'))} at the end"
    )


def figures_table(figures: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| figure | median | min – max | IQR | n | unit | target |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, figure in figures.items():
        if name.startswith("inference_"):
            continue
        lines.append(
            f"| {name} | {number(figure['median'])} "
            f"| {number(figure['min'])} – {number(figure['max'])} "
            f"| {number(figure['q1'])} – {number(figure['q3'])} | {figure['n']} "
            f"| {figure['unit']} | {target_cell(name, figure['median'])} |"
        )
    return lines


def inference_table(figures: dict[str, dict[str, Any]], inference: dict[str, Any]) -> list[str]:
    lines = [
        "| scale | LR size | whole MP/s | tiled MP/s | whole peak MiB | tiled peak MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def cell(key: str) -> str:
        figure = figures.get(key)
        if figure is None or figure["median"] is None:
            return "–"
        return f"{number(figure['median'])} ({number(figure['min'])} – {number(figure['max'])})"

    for scale in inference["scales"]:
        for size in inference["sizes"]:
            prefix = inference_key(scale, size, "")
            lines.append(
                f"| x{scale} | {size}² | {cell(prefix + 'whole_mp_per_s')} "
                f"| {cell(prefix + 'tiled_mp_per_s')} | {cell(prefix + 'whole_peak_mib')} "
                f"| {cell(prefix + 'tiled_peak_mib')} |"
            )
    return lines


def inference_key(scale: int, size: int, what: str) -> str:
    return f"inference_x{scale}_{size}px_{what}"


def markdown(results: dict[str, Any]) -> str:
    config = results["config"]
    lines = [
        f"### srlab bench, {results['started']} ({results['output']})",
        "",
        f"- command: `{results['command']}`",
        f"- machine: {machine_line(results['machine'])}",
        *(f"- {name}: {text}" for name, text in results["setup"].items()),
        "",
        *figures_table(results["figures"]),
        "",
        "Medians over the repeats (min – max in brackets).",
    ]
    if any(name.startswith("inference_") for name in results["figures"]):
        lines += [
            "Output megapixels/s, tile "
            f"{config['inference']['tile']} with overlap {config['inference']['tile_overlap']} "
            "LR pixels.",
            "",
            *inference_table(results["figures"], config["inference"]),
        ]
    return "\n".join(lines)
