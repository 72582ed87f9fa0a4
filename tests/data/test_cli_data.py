import argparse

import pytest

from autograder.cli_data import add_parser
from autograder.data import DataError, DataNotFoundError, link
from tests.data.data_builders import write_cifar, write_mnist


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="dlkit")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(list(argv))
    return args.func(args)


def snapshot(folder):
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_status_prints_table_and_fails_when_something_is_missing(tmp_path, capsys):
    write_mnist(tmp_path, train=True)
    assert run("data", "status", "--data-root", str(tmp_path)) == 1
    out = capsys.readouterr().out
    assert f"data root: {tmp_path}" in out and "MNIST     train  partial  6" in out


def test_status_succeeds_when_all_present_even_if_partial(tmp_path, capsys):
    write_mnist(tmp_path, train=True)
    write_mnist(tmp_path, train=False)
    write_cifar(tmp_path)
    assert run("data", "status", "--data-root", str(tmp_path)) == 0


def test_data_without_action_prints_help(capsys):
    assert run("data") == 2
    assert "status" in capsys.readouterr().out


def test_link_makes_the_data_appear_without_writing_into_source(tmp_path, capsys):
    src, root = tmp_path / "shared", tmp_path / "root"
    write_mnist(src, train=True)
    write_mnist(src, train=False)
    write_cifar(src)
    before = snapshot(src)
    assert run("data", "link", str(src), "--data-root", str(root)) == 0
    assert snapshot(src) == before
    linked = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    assert linked.is_symlink() and linked.resolve() == (src / "MNIST" / "raw" / "train-images-idx3-ubyte")
    assert not (root / "MNIST").is_symlink()
    assert "linked" in capsys.readouterr().out
    assert [i.how for i in link(src, root)] == ["already there"] * 11


def test_link_copy(tmp_path):
    src, root = tmp_path / "shared", tmp_path / "root"
    write_mnist(src, train=False)
    items = link(src, root, copy=True)
    assert {i.how for i in items} == {"copied"}
    assert not items[0].dest.is_symlink() and items[0].dest.read_bytes() == items[0].source.read_bytes()


def test_link_refuses_to_overwrite_other_files(tmp_path, capsys):
    src, root = tmp_path / "shared", tmp_path / "root"
    write_mnist(src, train=True)
    write_mnist(root, train=True, n=2)
    assert run("data", "link", str(src), "--data-root", str(root)) == 1
    err = capsys.readouterr().err
    assert "Not linking anything" in err and "train-images-idx3-ubyte" in err
    assert not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_symlink()


def test_link_points_at_the_right_folder(tmp_path):
    src = tmp_path / "shared"
    write_mnist(src, train=True)
    with pytest.raises(DataNotFoundError, match=f"Did you mean {src}\\?"):
        link(src / "MNIST" / "raw", tmp_path / "root")


def test_link_into_itself_is_refused(tmp_path):
    write_mnist(tmp_path)
    with pytest.raises(DataError, match="linking would write into"):
        link(tmp_path, tmp_path / "sub")


def test_dlkit_main_has_the_data_command(tmp_path, capsys):
    from dlkit.cli import main
    assert main(["data", "status", "--data-root", str(tmp_path)]) == 1
    assert "CIFAR-10  test   missing" in capsys.readouterr().out
