use super::*;

fn attr(name: &str) -> Expr {
    Expr::Attribute(name.into())
}

#[test]
fn parses_join_of_attributes() {
    let e = parse(r#"Join(" ", [givenName], [familyName])"#).expect("parses");
    assert_eq!(
        e,
        Expr::Call {
            function: Function::Join,
            args: vec![Expr::Text(" ".into()), attr("givenName"), attr("familyName")]
        }
    );
    assert_eq!(e.attributes(), vec!["givenName", "familyName"]);
}

#[test]
fn parses_nested_calls_equality_and_numbers() {
    let e = parse(r#"IIF([department]="Sales", ToUpper(Left([displayName], 3)), "x")"#).expect("parses");
    let Expr::Call {
        function: Function::IIF,
        args,
    } = e
    else {
        panic!("not IIF")
    };
    assert_eq!(
        args[0],
        Expr::Equals(Box::new(attr("department")), Box::new(Expr::Text("Sales".into())))
    );
    assert_eq!(
        args[1],
        Expr::Call {
            function: Function::ToUpper,
            args: vec![Expr::Call {
                function: Function::Left,
                args: vec![attr("displayName"), Expr::Integer(3)]
            }]
        }
    );
}

#[test]
fn function_names_are_case_insensitive_and_strings_escape_quotes() {
    let e = parse(r#"append([userName], "\"x\"")"#).expect("parses");
    assert_eq!(
        e,
        Expr::Call {
            function: Function::Append,
            args: vec![attr("userName"), Expr::Text("\"x\"".into())]
        }
    );
}

#[test]
fn replace_accepts_empty_optional_arguments() {
    let e = parse(r#"Replace([mail], "@contoso.com", , , "@fabrikam.com", , )"#).expect("parses");
    let Expr::Call { args, .. } = e else {
        panic!("not a call")
    };
    assert_eq!(args.len(), 7);
    assert_eq!(args[2], Expr::Missing);
}

#[test]
fn errors_say_where_and_what() {
    let cases = [
        ("Jion(\" \", [a])", 1, "unknown function 'Jion'"),
        ("Join(\" \", [a]", 14, "')' expected"),
        ("Append([a])", 1, "Append takes 2 arguments, got 1"),
        ("[a", 1, "'[' is never closed"),
        ("\"abc", 1, "string is never closed"),
        ("Trim([a]) x", 11, "unexpected 'x'"),
        ("Trim(,)", 1, "Trim takes 1 arguments, got 2"),
        ("Mid([a], , 2)", 1, "Mid has an empty argument"),
        ("", 1, "ends where a value was expected"),
    ];
    for (source, column, text) in cases {
        let err = parse(source).expect_err(source);
        assert_eq!(err.position, column, "{source}: {err}");
        assert!(err.message.contains(text), "{source}: {err}");
    }
}
